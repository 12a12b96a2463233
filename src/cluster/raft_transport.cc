#include "raft_transport.h"

#include <unistd.h>

#include <cstdio>

namespace volley::cluster {
namespace {

// Closes the fd unless released: a closure dropped by a stopped loop leaks nothing.
struct OwnedFd {
  int fd = -1;
  explicit OwnedFd(int f) : fd(f) {}
  ~OwnedFd() {
    if (fd >= 0) close(fd);
  }
  int Release() {
    const int f = fd;
    fd = -1;
    return f;
  }
};

}  // namespace

struct TunnelTransport::Pending {
  raft_uv_connect* req;
  raft_uv_connect_cb cb;
  bool canceled = false;
};

TunnelTransport::TunnelTransport(UvLoopThread& loop, TunnelHub& hub) : loop_(loop), hub_(hub) {
  transport_.impl = this;  // raft_uv_init takes `data` for itself
  transport_.init = &TunnelTransport::Init;
  transport_.listen = &TunnelTransport::Listen;
  transport_.connect = &TunnelTransport::Connect;
  transport_.close = &TunnelTransport::Close;
}

TunnelTransport::~TunnelTransport() = default;

int TunnelTransport::Init(raft_uv_transport*, raft_id, const char*) { return 0; }

int TunnelTransport::Listen(raft_uv_transport* t, raft_uv_accept_cb cb) {
  static_cast<TunnelTransport*>(t->impl)->accept_cb_ = cb;
  return 0;
}

uv_stream_t* TunnelTransport::OpenPipe(int fd) {
  auto* pipe = static_cast<uv_pipe_t*>(raft_malloc(sizeof(uv_pipe_t)));
  if (pipe == nullptr) {
    close(fd);
    return nullptr;
  }
  uv_pipe_init(loop_.loop(), pipe, 0);
  if (uv_pipe_open(pipe, fd) != 0) {
    close(fd);
    uv_close(reinterpret_cast<uv_handle_t*>(pipe), [](uv_handle_t* h) { raft_free(h); });
    return nullptr;
  }
  return reinterpret_cast<uv_stream_t*>(pipe);
}

void TunnelTransport::AcceptFromHub(TunnelPeer peer) {
  auto fd = std::make_shared<OwnedFd>(peer.fd);
  loop_.Post([this, fd, id = peer.identity.raft_id, address = peer.identity.address] {
    if (accept_cb_ == nullptr || closing_) return;  // `fd` closes itself
    uv_stream_t* stream = OpenPipe(fd->Release());
    if (stream != nullptr) accept_cb_(&transport_, id, address.c_str(), stream);
  });
}

int TunnelTransport::Connect(raft_uv_transport* t, raft_uv_connect* req, raft_id id,
                             const char* address, raft_uv_connect_cb cb) {
  auto* self = static_cast<TunnelTransport*>(t->impl);
  if (self->closing_) return RAFT_CANCELED;
  auto pending = std::make_shared<Pending>(Pending{req, cb});
  self->pending_.insert(pending);
  self->hub_.Connect(id, address, [self, pending](Result<TunnelPeer> peer) {
    auto fd = std::make_shared<OwnedFd>(peer ? peer->fd : -1);
    self->loop_.Post([self, pending, fd] {
      if (pending->canceled) return;
      self->pending_.erase(pending);
      if (fd->fd < 0) {
        pending->cb(pending->req, nullptr, RAFT_NOCONNECTION);
        return;
      }
      uv_stream_t* stream = self->OpenPipe(fd->Release());
      pending->cb(pending->req, stream, stream ? 0 : RAFT_NOCONNECTION);
    });
  });
  return 0;
}

void TunnelTransport::Close(raft_uv_transport* t, raft_uv_transport_close_cb cb) {
  auto* self = static_cast<TunnelTransport*>(t->impl);
  self->closing_ = true;
  self->accept_cb_ = nullptr;
  auto pending = std::move(self->pending_);
  self->pending_.clear();
  for (const auto& p : pending) {
    p->canceled = true;
    p->cb(p->req, nullptr, RAFT_CANCELED);
  }
  // Not from inside raft's own close call: the next loop iteration.
  self->loop_.Post([t, cb] { cb(t); });
}

}  // namespace volley::cluster
