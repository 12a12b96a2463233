// libraft's connection interface (struct raft_uv_transport) over TunnelHub: raft's byte
// streams are one end of a socketpair per tunnel, opened as a uv_pipe_t on raft's loop.
// Confined to the loop thread of `loop`, except AcceptFromHub, which the hub calls from
// its threads and which posts to the loop.
#pragma once

// libraft 0.15's headers have no extern "C" of their own.
extern "C" {
#include <raft.h>
#include <raft/uv.h>
}

#include <memory>
#include <set>
#include <string>

#include "tunnel_hub.h"
#include "uv_loop_thread.h"

namespace volley::cluster {

class TunnelTransport {
 public:
  // `loop` and `hub` must outlive the transport.
  TunnelTransport(UvLoopThread& loop, TunnelHub& hub);
  ~TunnelTransport();

  // What raft_uv_init takes. Its callbacks run on the loop thread.
  raft_uv_transport* raw() { return &transport_; }

  // The hub's accept handler: hands the tunnel to raft on the loop thread (or closes it
  // when raft does not listen). Thread-safe.
  void AcceptFromHub(TunnelPeer peer);

 private:
  struct Pending;
  static int Init(raft_uv_transport* t, raft_id id, const char* address);
  static int Listen(raft_uv_transport* t, raft_uv_accept_cb cb);
  static int Connect(raft_uv_transport* t, raft_uv_connect* req, raft_id id, const char* address,
                     raft_uv_connect_cb cb);
  static void Close(raft_uv_transport* t, raft_uv_transport_close_cb cb);
  uv_stream_t* OpenPipe(int fd);  // raft owns the result (uv_close + raft_free)

  UvLoopThread& loop_;
  TunnelHub& hub_;
  raft_uv_transport transport_{};
  // Loop thread only:
  raft_uv_accept_cb accept_cb_ = nullptr;
  bool closing_ = false;
  std::set<std::shared_ptr<Pending>> pending_;
};

}  // namespace volley::cluster
