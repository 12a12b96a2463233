#include "raft_host.h"

// libraft 0.15's headers have no extern "C" of their own.
extern "C" {
#include <raft.h>
#include <raft/uv.h>
}

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

#include "coordinator_gate.h"
#include "entry.h"
#include "raft_transport.h"
#include "uv_loop_thread.h"
#include "volley/v1/node.pb.h"

namespace volley::cluster {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;
using std::chrono::milliseconds;

constexpr unsigned kPollMs = 5;
constexpr unsigned kMembershipEveryPolls = 20;  // 100 ms

const char* RaftStateName(int s) {
  switch (s) {
    case RAFT_FOLLOWER:
      return "follower";
    case RAFT_CANDIDATE:
      return "candidate";
    case RAFT_LEADER:
      return "leader";
    default:
      return "unavailable";
  }
}

RaftRole RoleOf(int state) {
  switch (state) {
    case RAFT_FOLLOWER:
      return RaftRole::kFollower;
    case RAFT_CANDIDATE:
      return RaftRole::kCandidate;
    case RAFT_LEADER:
      return RaftRole::kLeader;
    default:
      return RaftRole::kUnavailable;
  }
}

Membership FromRaftRole(int role) {
  return role == RAFT_VOTER     ? Membership::kVoter
         : role == RAFT_STANDBY ? Membership::kStandby
                                : Membership::kSpare;
}

class Host final : public RaftHost {
 public:
  Host(Options o, TunnelHub& hub)
      : options_(std::move(o)), hub_(hub), transport_(loop_, hub), gate_(options_.self.raft_id) {
    observer_ = options_.hooks.apply;
  }

  Result<void> Init() {
    const std::string& dir = options_.cluster.data_dir;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return MakeError(ErrorCode::kIo,
                       "CLUSTER_DATA_DIR " + dir + ": cannot create it: " + ec.message());
    }
    hub_.SetAcceptHandler([this](TunnelPeer p) { transport_.AcceptFromHub(std::move(p)); });
    if (int rv = raft_uv_init(&io_, loop_.loop(), dir.c_str(), transport_.raw()); rv != 0) {
      return tl::unexpected(RaftError("raft_uv_init", rv, io_.errmsg));
    }
    io_ready_ = true;
    raft_uv_set_segment_size(&io_, 1 << 20);
    raft_uv_set_connect_retry_delay(&io_, 200);
    fsm_.version = 1;
    fsm_.data = this;
    fsm_.apply = &Host::Apply;
    fsm_.snapshot = &Host::Snapshot;
    fsm_.restore = &Host::Restore;
    if (int rv =
            raft_init(&raft_, &io_, &fsm_, options_.self.raft_id, options_.self.address.c_str());
        rv != 0) {
      return tl::unexpected(RaftError("raft_init", rv, raft_errmsg(&raft_)));
    }
    raft_ready_ = true;
    raft_.data = this;
    raft_set_election_timeout(&raft_,
                              static_cast<unsigned>(options_.cluster.election_timeout.count()));
    raft_set_heartbeat_timeout(&raft_,
                               static_cast<unsigned>(options_.cluster.heartbeat_interval.count()));
    raft_set_pre_vote(&raft_, true);
    raft_configuration conf;
    raft_configuration_init(&conf);
    for (const auto& m : options_.configuration) {
      const int role = m.membership == Membership::kVoter     ? RAFT_VOTER
                       : m.membership == Membership::kStandby ? RAFT_STANDBY
                                                              : RAFT_SPARE;
      raft_configuration_add(&conf, m.raft_id, m.address.c_str(), role);
    }
    const int boot = raft_bootstrap(&raft_, &conf);
    raft_configuration_close(&conf);
    if (boot != 0 && boot != RAFT_CANTBOOTSTRAP) {
      return tl::unexpected(RaftError("raft_bootstrap", boot, raft_errmsg(&raft_)));
    }
    if (int rv = raft_start(&raft_); rv != 0) {
      return tl::unexpected(RaftError("raft_start", rv, raft_errmsg(&raft_)));
    }
    fprintf(stderr,
            "volley cluster: %s: %s; log up to index %llu, term %llu; %u members configured\n",
            dir.c_str(),
            boot == RAFT_CANTBOOTSTRAP ? "restarted with its Raft state"
                                       : "bootstrapped a new Raft state",
            static_cast<unsigned long long>(raft_last_index(&raft_)),
            static_cast<unsigned long long>(raft_.current_term), raft_.configuration.n);
    uv_timer_init(loop_.loop(), &timer_);
    timer_.data = this;
    uv_timer_start(&timer_, &Host::OnTimer, kPollMs, kPollMs);
    started_at_ = std::chrono::steady_clock::now();
    Poll();
    loop_.Run();
    return {};
  }

  // Used when Init failed before the loop thread ran: close what was opened, on this thread.
  void Abandon() {
    hub_.SetAcceptHandler(nullptr);
    if (raft_ready_) {
      raft_close(&raft_, [](raft* r) { raft_uv_close(static_cast<Host*>(r->data)->io_ptr()); });
    } else if (io_ready_) {
      raft_uv_close(&io_);
    }
    loop_.CloseAsync();
    uv_run(loop_.loop(), UV_RUN_DEFAULT);
  }

  raft_io* io_ptr() { return &io_; }

  ClusterStatus Status() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }

  void Propose(uint16_t type, std::string payload,
               std::function<void(Result<uint64_t>)> done) override {
    if (type < kFirstUserType) {
      done(MakeError(ErrorCode::kInvalidArgument, "entry types below 256 are the cluster's own"));
      return;
    }
    loop_.Post([this, type, payload = std::move(payload), done] {
      if (!gate_.coordinator()) {
        return done(MakeError(ErrorCode::kInvalidArgument,
                              "this node is not the coordinator; send it to the leader"));
      }
      ApplyEntry(EncodeEntry(type, payload), done);
    });
  }

  void SetApplyObserver(std::function<void(uint16_t, std::string_view, uint64_t)> fn) override {
    std::lock_guard<std::mutex> lock(mu_);
    observer_ = std::move(fn);
  }

  void Stop() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      stopped_ = true;
    }
    loop_.Post([this] {
      uv_timer_stop(&timer_);
      uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
      raft_close(&raft_, [](raft* r) {
        auto* self = static_cast<Host*>(r->data);
        raft_uv_close(&self->io_);
        self->loop_.CloseAsync();
      });
    });
    loop_.Join();
  }

 private:
  struct ApplyReq {
    struct raft_apply req;
    std::function<void(Result<uint64_t>)> done;
  };
  struct ChangeReq {
    raft_change req;
    Host* host;
    std::string what;
  };

  static Error RaftError(const char* call, int rv, const char* msg) {
    return Error{ErrorCode::kIo, std::string(call) + " failed: " + raft_strerror(rv) + " (" +
                                     (msg && *msg ? msg : "no detail") +
                                     "); check CLUSTER_DATA_DIR is writable"};
  }

  // ---- FSM (loop thread) ----

  static int Apply(raft_fsm* fsm, const raft_buffer* buf, void** result) {
    auto* self = static_cast<Host*>(fsm->data);
    *result = nullptr;
    auto entry = DecodeEntry(std::string_view(static_cast<const char*>(buf->base), buf->len));
    if (!entry) {
      fprintf(stderr, "volley cluster: ignored a log entry: %s\n", entry.error().message.c_str());
      return 0;
    }
    self->ApplyDecoded(*entry, self->raft_.last_applied + 1);
    return 0;
  }

  void ApplyDecoded(const DecodedEntry& e, uint64_t index) {
    if (e.type == kEntryCoordinator) {
      v1::CoordinatorEntry c;
      if (c.ParseFromArray(e.payload.data(), static_cast<int>(e.payload.size()))) {
        applied_coord_term_ = c.term();
        applied_coord_id_ = c.raft_id();
        fprintf(stderr, "volley cluster: log index %llu: %s coordinates term %llu\n",
                static_cast<unsigned long long>(index), c.node_id().c_str(),
                static_cast<unsigned long long>(c.term()));
      }
    } else if (e.type == kEntryMembers) {
      v1::MembersEntry m;
      if (m.ParseFromArray(e.payload.data(), static_cast<int>(e.payload.size()))) {
        for (const auto& id : m.members()) {
          directory_[id.raft_id()] =
              PeerIdentity{id.node_id(), id.raft_id(), id.region(), id.address()};
        }
      }
    } else if (e.type == kEntryUserState) {
      if (index == 0 && options_.hooks.restore) options_.hooks.restore(e.payload);
    } else if (e.type >= kFirstUserType) {
      std::function<void(uint16_t, std::string_view, uint64_t)> fn;
      {
        std::lock_guard<std::mutex> lock(mu_);
        fn = observer_;
      }
      if (fn) fn(e.type, e.payload, index);
    }
  }

  std::string MembersPayload() const {
    v1::MembersEntry m;
    for (const auto& [id, p] : directory_) {
      auto* e = m.add_members();
      e->set_raft_id(id);
      e->set_node_id(p.node_id);
      e->set_region(p.region);
      e->set_address(p.address);
    }
    return m.SerializeAsString();
  }

  static int Snapshot(raft_fsm* fsm, raft_buffer* bufs[], unsigned* n) {
    auto* self = static_cast<Host*>(fsm->data);
    v1::CoordinatorEntry c;
    c.set_term(self->applied_coord_term_);
    c.set_raft_id(self->applied_coord_id_);
    std::string bytes = EncodeEntry(kEntryMembers, self->MembersPayload()) +
                        EncodeEntry(kEntryCoordinator, c.SerializeAsString());
    // The user state (Cluster II's runs) rides in the same snapshot, so a node that
    // restores it knows what the compacted entries decided.
    if (self->options_.hooks.snapshot) {
      bytes += EncodeEntry(kEntryUserState, self->options_.hooks.snapshot());
    }
    auto* buf = static_cast<raft_buffer*>(raft_malloc(sizeof(raft_buffer)));
    if (buf == nullptr) return RAFT_NOMEM;
    buf->base = raft_malloc(bytes.size());
    if (buf->base == nullptr) {
      raft_free(buf);
      return RAFT_NOMEM;
    }
    memcpy(buf->base, bytes.data(), bytes.size());
    buf->len = bytes.size();
    *bufs = buf;
    *n = 1;
    return 0;
  }

  static int Restore(raft_fsm* fsm, raft_buffer* buf) {
    auto* self = static_cast<Host*>(fsm->data);
    std::string_view rest(static_cast<const char*>(buf->base), buf->len);
    self->directory_.clear();
    while (rest.size() >= kEntryHeaderSize) {
      uint64_t len = 0;
      memcpy(&len, rest.data() + 8, sizeof len);
      const size_t whole = (kEntryHeaderSize + len + 7) & ~size_t{7};
      if (len > rest.size() || whole > rest.size()) break;
      auto e = DecodeEntry(rest.substr(0, whole));
      if (!e) break;
      self->ApplyDecoded(*e, 0);
      rest.remove_prefix(whole);
    }
    raft_free(buf->base);
    return 0;
  }

  // ---- proposals (loop thread) ----

  void ApplyEntry(const std::string& bytes, std::function<void(Result<uint64_t>)> done) {
    auto* a = new ApplyReq{};
    a->req.data = a;
    a->done = std::move(done);
    raft_buffer buf;
    buf.len = bytes.size();
    buf.base = raft_malloc(buf.len);
    memcpy(buf.base, bytes.data(), buf.len);
    const int rv =
        raft_apply(&raft_, &a->req, &buf, 1, [](struct raft_apply* req, int status, void*) {
          auto* a = static_cast<ApplyReq*>(req->data);
          if (status == 0) {
            a->done(req->index);
          } else {
            a->done(
                MakeError(ErrorCode::kIo, std::string("not committed: ") + raft_strerror(status)));
          }
          delete a;
        });
    if (rv != 0) {
      raft_free(buf.base);
      auto done_now = std::move(a->done);
      delete a;
      done_now(MakeError(ErrorCode::kIo, std::string("raft_apply: ") + raft_strerror(rv)));
    }
  }

  RaftView View() {
    raft_id leader = 0;
    const char* address = nullptr;
    raft_leader(&raft_, &leader, &address);
    return RaftView{RoleOf(raft_state(&raft_)), raft_.current_term, leader};
  }

  void TakeOffice(uint64_t term) {
    v1::CoordinatorEntry c;
    c.set_term(term);
    c.set_raft_id(options_.self.raft_id);
    c.set_node_id(options_.self.node_id);
    ApplyEntry(EncodeEntry(kEntryCoordinator, c.SerializeAsString()),
               [this, term](Result<uint64_t> r) {
                 if (!r) {
                   fprintf(stderr, "volley cluster: term %llu: coordinator entry failed: %s\n",
                           static_cast<unsigned long long>(term), r.error().message.c_str());
                   gate_.Failed(term);
                   return;
                 }
                 gate_.Committed(term, View());
                 NoteCoordinator();
               });
  }

  void Change(uint64_t id, int role, std::string what) {
    auto* c = new ChangeReq{{}, this, std::move(what)};
    c->req.data = c;
    change_pending_ = true;
    const int rv = raft_assign(&raft_, &c->req, id, role, [](raft_change* req, int status) {
      auto* c = static_cast<ChangeReq*>(req->data);
      c->host->change_pending_ = false;
      fprintf(stderr, "volley cluster: membership: %s: %s\n", c->what.c_str(),
              status == 0 ? "committed" : raft_strerror(status));
      delete c;
    });
    if (rv != 0) {
      change_pending_ = false;
      fprintf(stderr, "volley cluster: membership: %s: refused: %s\n", c->what.c_str(),
              raft_strerror(rv));
      delete c;
    }
  }

  // ---- the poll (loop thread) ----

  static void OnTimer(uv_timer_t* t) { static_cast<Host*>(t->data)->Poll(); }

  std::string NameOf(uint64_t id, const std::map<uint64_t, PeerIdentity>& seen) const {
    if (id == options_.self.raft_id) return options_.self.node_id;
    if (auto it = directory_.find(id); it != directory_.end()) return it->second.node_id;
    if (auto it = seen.find(id); it != seen.end()) return it->second.node_id;
    for (unsigned i = 0; i < raft_.configuration.n; ++i) {
      if (raft_.configuration.servers[i].id == id) return raft_.configuration.servers[i].address;
    }
    return std::to_string(id);
  }

  void LogTransition(int from, int to, uint64_t term, uint64_t prev_term) {
    std::string why;
    if (to == RAFT_CANDIDATE) {
      why = "no heartbeat from a leader within the election timeout; asking for votes";
    } else if (to == RAFT_LEADER) {
      why = "won the election of term " + std::to_string(term) + " (a majority of voters)";
    } else if (from == RAFT_LEADER) {
      why = term > prev_term ? "saw the higher term " + std::to_string(term)
                             : "lost contact with a majority of voters";
    } else if (from == RAFT_CANDIDATE) {
      why = "another node leads term " + std::to_string(term);
    } else {
      why = "raft state changed";
    }
    fprintf(stderr, "volley cluster: %s -> %s (term %llu): %s\n", RaftStateName(from),
            RaftStateName(to), static_cast<unsigned long long>(term), why.c_str());
  }

  // Logs a change of office and stamps its start.
  void NoteCoordinator() {
    const bool now = gate_.coordinator();
    if (now == was_coordinator_) return;
    was_coordinator_ = now;
    if (now) {
      in_office_since_ = std::chrono::steady_clock::now();
      fprintf(stderr, "volley cluster: coordinator for term %llu (its entry is committed)\n",
              static_cast<unsigned long long>(raft_.current_term));
    } else {
      fprintf(stderr, "volley cluster: no longer coordinator (term %llu, raft state %s)\n",
              static_cast<unsigned long long>(raft_.current_term),
              RaftStateName(raft_state(&raft_)));
    }
  }

  void Poll() {
    const auto now = std::chrono::steady_clock::now();
    const RaftView view = View();
    const int state = raft_state(&raft_);
    const uint64_t term = view.term;
    const uint64_t leader = view.leader;
    if (state != last_state_) {
      LogTransition(last_state_, state, term, last_term_);
      if (state == RAFT_CANDIDATE) ++elections_;
    }
    if (term != last_term_ && last_term_ != 0) ++term_changes_;
    if (auto propose = gate_.Observe(view)) TakeOffice(*propose);
    NoteCoordinator();
    last_state_ = state;
    last_term_ = term;

    const auto contacts = hub_.Contacts();
    const auto seen = hub_.Identities();
    if (gate_.coordinator() && ++membership_tick_ % kMembershipEveryPolls == 0) {
      Coordinate(now, contacts, seen);
    }
    Publish(now, state, term, leader, contacts, seen);
  }

  // One coordinator step: publish identities, then at most one membership change.
  void Coordinate(SteadyTime now, const std::map<uint64_t, PeerContact>& contacts,
                  const std::map<uint64_t, PeerIdentity>& seen) {
    if (!members_pending_) {
      std::map<uint64_t, PeerIdentity> merged = directory_;
      merged[options_.self.raft_id] = options_.self;
      for (const auto& [id, p] : seen) merged[id] = p;
      bool differs = merged.size() != directory_.size();
      for (const auto& [id, p] : merged) {
        auto it = directory_.find(id);
        differs = differs || it == directory_.end() || it->second.node_id != p.node_id ||
                  it->second.region != p.region;
      }
      if (differs) {
        const auto saved = directory_;
        directory_ = merged;
        const std::string payload = MembersPayload();
        directory_ = saved;
        members_pending_ = true;
        ApplyEntry(EncodeEntry(kEntryMembers, payload),
                   [this](Result<uint64_t>) { members_pending_ = false; });
      }
    }
    if (change_pending_) return;
    std::vector<MemberView> views;
    for (unsigned i = 0; i < raft_.configuration.n; ++i) {
      const raft_server& s = raft_.configuration.servers[i];
      MemberView v{s.id, FromRaftRole(s.role), std::nullopt};
      if (auto it = contacts.find(s.id); it != contacts.end()) {
        v.silent_for = std::chrono::duration_cast<milliseconds>(now - it->second.last_bytes);
      }
      views.push_back(v);
    }
    const auto office = std::chrono::duration_cast<milliseconds>(now - in_office_since_);
    auto change = NextMembershipChange(views, options_.self.raft_id, options_.cluster.voters,
                                       options_.cluster.promote_after, office);
    if (!change) return;
    const bool demote = change->kind == MembershipChange::kDemote;
    Change(change->raft_id, demote ? RAFT_STANDBY : RAFT_VOTER,
           std::string(demote ? "demote " : "promote ") + NameOf(change->raft_id, seen) +
               (demote ? " to standby (" : " to voter (") + change->reason + ")");
  }

  void Publish(SteadyTime now, int state, uint64_t term, uint64_t leader,
               const std::map<uint64_t, PeerContact>& contacts,
               const std::map<uint64_t, PeerIdentity>& seen) {
    ClusterStatus s;
    s.node_id = options_.self.node_id;
    s.region = options_.self.region;
    s.address = options_.self.address;
    s.term = term;
    s.leader_id = leader != 0 ? NameOf(leader, seen) : "";
    s.peers = raft_.configuration.n;
    s.coordinator = gate_.coordinator();
    s.elections = elections_;
    s.term_changes = term_changes_;
    s.refused_peers = hub_.refused();
    s.last_log_index = raft_last_index(&raft_);
    s.commit_index = raft_.commit_index;
    const auto touch = options_.cluster.election_timeout * 2;
    size_t in_touch = 0, voters = 0;
    for (unsigned i = 0; i < raft_.configuration.n; ++i) {
      const raft_server& srv = raft_.configuration.servers[i];
      MemberStatus m;
      m.node_id = NameOf(srv.id, seen);
      m.address = srv.address;
      m.membership = MembershipName(FromRaftRole(srv.role));
      if (srv.role == RAFT_VOTER) ++voters;
      if (auto it = directory_.find(srv.id); it != directory_.end()) {
        m.region = it->second.region;
      } else if (auto it2 = seen.find(srv.id); it2 != seen.end()) {
        m.region = it2->second.region;
      }
      if (srv.id == options_.self.raft_id) {
        m.region = options_.self.region;
        m.last_contact = milliseconds(0);
        ++in_touch;
      } else if (auto it = contacts.find(srv.id); it != contacts.end()) {
        m.last_contact = std::chrono::duration_cast<milliseconds>(now - it->second.last_bytes);
        m.max_silence = it->second.max_gap;
        if (*m.last_contact <= touch) ++in_touch;
      }
      s.members.push_back(std::move(m));
    }
    const size_t needed =
        options_.cluster.min_peers != 0 ? options_.cluster.min_peers : voters / 2 + 1;
    if (gate_.coordinator()) {
      s.cluster_ready = in_touch >= needed;
      s.state = Role::kLeader;
    } else {
      s.cluster_ready = CoordinatorGate::FollowerReady(RaftView{RoleOf(state), term, leader},
                                                       applied_coord_term_, applied_coord_id_);
      s.state = state == RAFT_FOLLOWER && leader != 0 ? Role::kFollower : Role::kForming;
    }
    std::lock_guard<std::mutex> lock(mu_);
    status_ = std::move(s);
  }

  const Options options_;
  TunnelHub& hub_;
  UvLoopThread loop_;
  TunnelTransport transport_;
  raft_io io_{};
  raft_fsm fsm_{};
  raft raft_{};
  uv_timer_t timer_{};
  bool io_ready_ = false, raft_ready_ = false;

  // Loop thread only:
  int last_state_ = RAFT_UNAVAILABLE;
  uint64_t last_term_ = 0;
  CoordinatorGate gate_;
  bool was_coordinator_ = false;
  bool members_pending_ = false, change_pending_ = false;
  SteadyTime in_office_since_{}, started_at_{};
  unsigned membership_tick_ = 0;
  uint64_t applied_coord_term_ = 0, applied_coord_id_ = 0;
  std::map<uint64_t, PeerIdentity> directory_;  // from kMembers entries
  uint64_t elections_ = 0, term_changes_ = 0;

  mutable std::mutex mu_;
  ClusterStatus status_;                                                // guarded by mu_
  std::function<void(uint16_t, std::string_view, uint64_t)> observer_;  // guarded by mu_
  bool stopped_ = false;                                                // guarded by mu_
};

}  // namespace

Result<std::unique_ptr<RaftHost>> RaftHost::Start(Options options, TunnelHub& hub) {
  auto host = std::make_unique<Host>(std::move(options), hub);
  if (auto r = host->Init(); !r) {
    host->Abandon();
    return tl::unexpected(r.error());
  }
  return std::unique_ptr<RaftHost>(std::move(host));
}

}  // namespace volley::cluster
