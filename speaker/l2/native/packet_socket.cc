// A packet socket (AF_PACKET, SOCK_RAW) bound to one interface and one
// EtherType, read through libuv polling. Deliberately free of protocol logic:
// frames go in and out as bytes; parsing and building them is TypeScript.
//
// Errors never abort the process: opening throws a JS Error carrying the errno
// name in `code`; send/membership calls return the errno name (or undefined);
// receive-side errors go to the onError callback.
#include <napi.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

namespace {

// Frames handed to JS per poll wake-up before yielding back to the event loop.
// The poll is level-triggered, so whatever is left wakes us again at once; the
// cap only keeps a flood from starving timers and other sockets.
constexpr int kMaxFramesPerWake = 1024;
// Larger than any ARP/NDP frame on a jumbo-frame link; the kernel reports the
// real length through MSG_TRUNC and we hand up what fits.
constexpr size_t kReceiveBufferSize = 9216 + 64;

std::string ErrnoName(int err) { return uv_err_name(-err); }

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const std::string& ifname) {
  std::string message = std::string(syscall) + " " + ifname + ": " + strerror(err) + " (" + ErrnoName(err) + ")";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, ErrnoName(err)));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

class PacketSocket : public Napi::ObjectWrap<PacketSocket> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "PacketSocket",
                       {
                           InstanceMethod("send", &PacketSocket::Send),
                           InstanceMethod("addMembership", &PacketSocket::AddMembership),
                           InstanceMethod("dropMembership", &PacketSocket::DropMembership),
                           InstanceMethod("joinGroup", &PacketSocket::JoinGroup),
                           InstanceMethod("leaveGroup", &PacketSocket::LeaveGroup),
                           InstanceMethod("info", &PacketSocket::Info),
                           InstanceMethod("drain", &PacketSocket::DrainNow),
                           InstanceMethod("close", &PacketSocket::Close),
                       });
  }

  // new PacketSocket(ifname, etherType, filter | undefined, onFrame, onError, timestamps?)
  explicit PacketSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PacketSocket>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 5 || !info[0].IsString() || !info[1].IsNumber() || !info[3].IsFunction() ||
        !info[4].IsFunction() || !(info[2].IsUndefined() || info[2].IsNull() || info[2].IsBuffer())) {
      Napi::TypeError::New(env, "PacketSocket(ifname, etherType, filter?, onFrame, onError)").ThrowAsJavaScriptException();
      return;
    }
    ifname_ = info[0].As<Napi::String>().Utf8Value();
    uint32_t ether_type = info[1].As<Napi::Number>().Uint32Value();
    if (ifname_.empty() || ifname_.size() >= IFNAMSIZ || ether_type > 0xffff) {
      // EINVAL like the kernel would give: interface names are 1-15 bytes.
      ErrnoError(env, EINVAL, "PacketSocket", ifname_).ThrowAsJavaScriptException();
      return;
    }

    // Protocol 0: the socket receives nothing until bind() names the protocol,
    // so no frame from another interface or EtherType slips in before the
    // filter and the interface binding are in place.
    fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) { Fail(env, errno, "socket"); return; }

    // Our own transmissions are never delivered back to this socket anyway;
    // this also hides other local senders' outgoing frames (kernel >= 4.20).
    int one = 1;
    setsockopt(fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);

    if (info[2].IsBuffer()) {
      Napi::Buffer<uint8_t> program = info[2].As<Napi::Buffer<uint8_t>>();
      if (program.Length() == 0 || program.Length() % sizeof(sock_filter) != 0 ||
          program.Length() / sizeof(sock_filter) > BPF_MAXINSNS) {
        CloseFd();
        Napi::RangeError::New(env, "filter must be 1..4096 sock_filter instructions of 8 bytes").ThrowAsJavaScriptException();
        return;
      }
      sock_fprog fprog;
      fprog.len = static_cast<unsigned short>(program.Length() / sizeof(sock_filter));
      fprog.filter = reinterpret_cast<sock_filter*>(program.Data());
      if (setsockopt(fd_, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) < 0) { Fail(env, errno, "setsockopt(SO_ATTACH_FILTER)"); return; }
    }

    unsigned int ifindex = if_nametoindex(ifname_.c_str());
    if (ifindex == 0) { Fail(env, errno, "if_nametoindex"); return; }
    sockaddr_ll addr;
    memset(&addr, 0, sizeof addr);
    addr.sll_family = AF_PACKET;
    addr.sll_protocol = htons(static_cast<uint16_t>(ether_type));
    addr.sll_ifindex = static_cast<int>(ifindex);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) { Fail(env, errno, "bind"); return; }
    ifindex_ = static_cast<int>(ifindex);

    on_frame_ = Napi::Persistent(info[3].As<Napi::Function>());
    on_error_ = Napi::Persistent(info[4].As<Napi::Function>());
    receive_buffer_ = Napi::Persistent(Napi::ArrayBuffer::New(env, kReceiveBufferSize));
    // Kernel receive timestamps (CLOCK_REALTIME, ns) for latency measurement.
    if (info.Length() > 5 && info[5].ToBoolean().Value()) {
      if (setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0) { Fail(env, errno, "setsockopt(SO_TIMESTAMPNS)"); return; }
      timestamps_ = true;
    }
    async_context_ = new Napi::AsyncContext(env, "BallastPacketSocket", Value());

    poll_ = new PollState;
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    int rc = uv_poll_init(loop, &poll_->handle, fd_);
    if (rc < 0) {
      delete poll_;
      poll_ = nullptr;
      Fail(env, -rc, "uv_poll_init");
      return;
    }
    poll_->handle.data = poll_;
    poll_->owner = this;
    // A worker thread that ends with this socket open (terminate(), process
    // exit) must not find the poll handle still open when it closes its
    // loop: Node aborts then. The hook closes it and tells Node when done.
    napi_add_async_cleanup_hook(env, &PacketSocket::OnEnvTeardown, poll_, &poll_->teardown_hook);
    StartPolling();
    // Held while open: a socket that still receives must not be collected.
    Ref();
  }

  ~PacketSocket() override {
    // Only reachable once closed (open sockets hold a reference to
    // themselves), or when the constructor failed before polling started.
    CloseFd();
    delete async_context_;
  }

 private:
  void Fail(Napi::Env env, int err, const char* syscall) {
    Napi::Error error = ErrnoError(env, err, syscall, ifname_);
    CloseFd();
    error.ThrowAsJavaScriptException();
  }

  void CloseFd() {
    if (fd_ >= 0) close(fd_);
    if (group_fd_ >= 0) close(group_fd_);
    fd_ = -1;
    group_fd_ = -1;
  }

  // The uv handle lives apart from the socket object: its close completes
  // on a later loop turn, possibly after the object is gone.
  struct PollState {
    uv_poll_t handle;
    PacketSocket* owner = nullptr;
    napi_async_cleanup_hook_handle teardown_hook = nullptr;
  };

  void StartPolling() { uv_poll_start(&poll_->handle, UV_READABLE, &PacketSocket::OnPoll); }

  static void OnPoll(uv_poll_t* handle, int status, int /*events*/) {
    PollState* state = static_cast<PollState*>(handle->data);
    if (state->owner != nullptr) state->owner->Drain(status);
  }

  void ClosePoll() {
    if (poll_ == nullptr) return;
    PollState* state = poll_;
    poll_ = nullptr;
    state->owner = nullptr;
    uv_poll_stop(&state->handle);
    uv_close(reinterpret_cast<uv_handle_t*>(&state->handle), [](uv_handle_t* handle) {
      PollState* closed = static_cast<PollState*>(handle->data);
      if (closed->teardown_hook != nullptr) napi_remove_async_cleanup_hook(closed->teardown_hook);
      delete closed;
    });
  }

  static void OnEnvTeardown(napi_async_cleanup_hook_handle /*hook*/, void* data) {
    // Still open: close it; the close callback removes the hook. Already
    // closing: its close callback will.
    PollState* state = static_cast<PollState*>(data);
    if (state->owner == nullptr) return;
    PacketSocket* socket = state->owner;
    socket->ClosePoll();
    socket->CloseFd();
  }

  void Drain(int status) {
    if (fd_ < 0) return;
    Napi::Env env = Env();
    Napi::HandleScope handle_scope(env);
    // Keeps this object alive even if a callback closes it mid-batch.
    Napi::Object self = Value();
    (void)self;
    // Runs queued microtasks and nextTicks when the batch is done, as
    // MakeCallback would per call.
    Napi::CallbackScope callback_scope(env, *async_context_);

    if (status < 0) {
      // libuv reports POLLERR as UV_EBADF and stops the handle. For a packet
      // socket POLLERR usually means sk_err was set (ENETDOWN when the link
      // goes down); SO_ERROR reads and clears it, and polling resumes so the
      // socket works again once the link is back up.
      int soerr = 0;
      socklen_t len = sizeof soerr;
      if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) {
        EmitError(env, errno, "poll", true);
        return;
      }
      if (soerr != 0 && !EmitError(env, soerr, "recvmsg", false)) return;
      if (fd_ >= 0) StartPolling();
      return;
    }

    ReceiveBatch(env);
  }

  // Reads what the kernel has queued now, without waiting for the poll
  // callback: a caller about to act on "nothing arrived by the deadline" reads
  // the socket dry first, since after an event-loop stall the timer phase runs
  // before the poll phase that would have delivered the frames.
  Napi::Value DrainNow(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ >= 0) {
      Napi::HandleScope scope(env);
      Napi::Object self = Value();
      (void)self;
      ReceiveBatch(env);
    }
    return env.Undefined();
  }

  void ReceiveBatch(Napi::Env env) {
    // Every frame is received into the same JS ArrayBuffer and handed up as a
    // view of it: no allocation or copy per frame. A view is valid only until
    // the callback returns (the next frame overwrites it).
    Napi::ArrayBuffer receive_buffer = receive_buffer_.Value();
    if (receive_buffer.Data() == nullptr || receive_buffer.ByteLength() == 0) {
      // Detached (transferred) by the callback: start a fresh one.
      receive_buffer = Napi::ArrayBuffer::New(env, kReceiveBufferSize);
      receive_buffer_ = Napi::Persistent(receive_buffer);
    }
    uint8_t* buffer = static_cast<uint8_t*>(receive_buffer.Data());
    size_t buffer_size = receive_buffer.ByteLength();
    for (int i = 0; i < kMaxFramesPerWake && fd_ >= 0; i++) {
      sockaddr_ll from;
      iovec iov = {buffer, buffer_size};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
      msghdr msg;
      memset(&msg, 0, sizeof msg);
      msg.msg_name = &from;
      msg.msg_namelen = sizeof from;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = timestamps_ ? control : nullptr;
      msg.msg_controllen = timestamps_ ? sizeof control : 0;
      ssize_t n = recvmsg(fd_, &msg, MSG_TRUNC);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        EmitError(env, errno, "recvmsg", false);
        break;
      }
      Napi::HandleScope frame_scope(env);
      size_t length = std::min(static_cast<size_t>(n), buffer_size);
      Napi::Uint8Array frame = Napi::Uint8Array::New(env, length, receive_buffer, 0);
      Napi::Value stamp = env.Undefined();
      if (timestamps_) {
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
          if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            timespec ts;
            memcpy(&ts, CMSG_DATA(c), sizeof ts);
            stamp = Napi::BigInt::New(env, static_cast<uint64_t>(static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec)));
          }
        }
      }
      on_frame_.Call({frame, Napi::Number::New(env, from.sll_pkttype), stamp});
      if (!RethrowPending(env)) return;
    }
  }

  // Returns false if the callback threw (the exception has been raised as
  // uncaught: a throwing frame handler is a bug in the caller, not a socket error).
  bool RethrowPending(Napi::Env env) {
    if (!env.IsExceptionPending()) return true;
    Napi::Error error = env.GetAndClearPendingException();
    napi_fatal_exception(env, error.Value());
    return false;
  }

  bool EmitError(Napi::Env env, int err, const char* syscall, bool fatal) {
    Napi::HandleScope scope(env);
    Napi::Error error = ErrnoError(env, err, syscall, ifname_);
    error.Set("fatal", Napi::Boolean::New(env, fatal));
    on_error_.Call({error.Value()});
    return RethrowPending(env);
  }

  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      Napi::TypeError::New(env, "send(frame: Uint8Array)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (fd_ < 0) return Napi::String::New(env, "EBADF");
    Napi::Uint8Array frame = info[0].As<Napi::Uint8Array>();
    for (;;) {
      ssize_t n = send(fd_, frame.Data(), frame.ByteLength(), MSG_DONTWAIT);
      if (n >= 0) return env.Undefined();
      if (errno != EINTR) return Napi::String::New(env, ErrnoName(errno));
    }
  }

  Napi::Value Membership(const Napi::CallbackInfo& info, int option) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsBuffer() || info[0].As<Napi::Buffer<uint8_t>>().Length() != ETH_ALEN) {
      Napi::TypeError::New(env, "membership needs a 6-byte link-layer address").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (fd_ < 0) return Napi::String::New(env, "EBADF");
    packet_mreq mreq;
    memset(&mreq, 0, sizeof mreq);
    mreq.mr_ifindex = ifindex_;
    mreq.mr_type = PACKET_MR_MULTICAST;
    mreq.mr_alen = ETH_ALEN;
    memcpy(mreq.mr_address, info[0].As<Napi::Buffer<uint8_t>>().Data(), ETH_ALEN);
    if (setsockopt(fd_, SOL_PACKET, option, &mreq, sizeof mreq) < 0) return Napi::String::New(env, ErrnoName(errno));
    return env.Undefined();
  }

  Napi::Value AddMembership(const Napi::CallbackInfo& info) { return Membership(info, PACKET_ADD_MEMBERSHIP); }
  Napi::Value DropMembership(const Napi::CallbackInfo& info) { return Membership(info, PACKET_DROP_MEMBERSHIP); }

  // IPv6 multicast membership through the kernel, on this socket's interface
  // by index (no name lookup that could race with the interface being
  // replaced). The kernel then sends MLD reports, so MLD-snooping switches
  // forward the group to us, and programs the NIC's multicast filter. Held by
  // a never-bound UDP socket that receives nothing and closes with us.
  Napi::Value Group(const Napi::CallbackInfo& info, int option) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsBuffer() || info[0].As<Napi::Buffer<uint8_t>>().Length() != 16) {
      Napi::TypeError::New(env, "group membership needs a 16-byte IPv6 address").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (fd_ < 0) return Napi::String::New(env, "EBADF");
    if (group_fd_ < 0) {
      group_fd_ = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (group_fd_ < 0) return Napi::String::New(env, ErrnoName(errno));
    }
    ipv6_mreq mreq;
    memset(&mreq, 0, sizeof mreq);
    memcpy(&mreq.ipv6mr_multiaddr, info[0].As<Napi::Buffer<uint8_t>>().Data(), 16);
    mreq.ipv6mr_interface = static_cast<unsigned int>(ifindex_);
    if (setsockopt(group_fd_, IPPROTO_IPV6, option, &mreq, sizeof mreq) < 0) return Napi::String::New(env, ErrnoName(errno));
    return env.Undefined();
  }

  Napi::Value JoinGroup(const Napi::CallbackInfo& info) { return Group(info, IPV6_ADD_MEMBERSHIP); }
  Napi::Value LeaveGroup(const Napi::CallbackInfo& info) { return Group(info, IPV6_DROP_MEMBERSHIP); }

  // The interface's index and current hardware address (getsockname on a
  // bound packet socket reports the device's address).
  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    if (fd_ < 0) {
      out.Set("error", Napi::String::New(env, "EBADF"));
      return out;
    }
    sockaddr_ll addr;
    socklen_t len = sizeof addr;
    memset(&addr, 0, sizeof addr);
    if (getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) < 0) {
      out.Set("error", Napi::String::New(env, ErrnoName(errno)));
      return out;
    }
    out.Set("ifindex", Napi::Number::New(env, addr.sll_ifindex));
    out.Set("hardwareType", Napi::Number::New(env, addr.sll_hatype));
    size_t alen = std::min<size_t>(addr.sll_halen, sizeof addr.sll_addr);
    out.Set("address", Napi::Buffer<uint8_t>::Copy(env, addr.sll_addr, alen));
    return out;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (fd_ < 0) return info.Env().Undefined();
    ClosePoll();
    CloseFd();
    on_frame_.Reset();
    on_error_.Reset();
    receive_buffer_.Reset();
    Unref();
    return info.Env().Undefined();
  }

  std::string ifname_;
  Napi::Reference<Napi::ArrayBuffer> receive_buffer_;
  int fd_ = -1;
  int group_fd_ = -1;
  bool timestamps_ = false;
  int ifindex_ = 0;
  PollState* poll_ = nullptr;
  Napi::AsyncContext* async_context_ = nullptr;
  Napi::FunctionReference on_frame_;
  Napi::FunctionReference on_error_;
};

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  exports.Set("PacketSocket", PacketSocket::Init(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(ballast_packet, InitModule)
