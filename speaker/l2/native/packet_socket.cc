// A packet socket (AF_PACKET, SOCK_RAW) bound to one interface and one
// EtherType, read through libuv polling. Deliberately free of protocol logic:
// frames go in and out as bytes; parsing and building them is TypeScript.
#include "packet_socket.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/uio.h>
#include <time.h>

#include <algorithm>

#include "frame_path.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

namespace ballast {

Napi::Function PacketSocket::Init(Napi::Env env) {
  return DefineClass(env, "PacketSocket",
                     {
                         InstanceMethod("send", &PacketSocket::Send),
                         InstanceMethod("addMembership", &PacketSocket::AddMembership),
                         InstanceMethod("dropMembership", &PacketSocket::DropMembership),
                         InstanceMethod("joinGroup", &PacketSocket::JoinGroup),
                         InstanceMethod("leaveGroup", &PacketSocket::LeaveGroup),
                         InstanceMethod("info", &PacketSocket::Info),
                         InstanceMethod("stats", &PacketSocket::Stats),
                         InstanceMethod("drain", &PacketSocket::DrainNow),
                         InstanceMethod("close", &PacketSocket::Close),
                     });
}

// new PacketSocket(ifname, etherType, filter | undefined, onFrame, onError, timestamps, receiveBufferBytes)
PacketSocket::PacketSocket(const Napi::CallbackInfo& info) : PolledSocket<PacketSocket>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsString() || !info[1].IsNumber() || !info[3].IsFunction() ||
      !info[4].IsFunction() || !(info[2].IsUndefined() || info[2].IsNull() || info[2].IsBuffer())) {
    Napi::TypeError::New(env, "PacketSocket(ifname, etherType, filter?, onFrame, onError)").ThrowAsJavaScriptException();
    return;
  }
  name_ = info[0].As<Napi::String>().Utf8Value();
  uint32_t ether_type = info[1].As<Napi::Number>().Uint32Value();
  if (name_.empty() || name_.size() >= IFNAMSIZ || ether_type > 0xffff) {
    // EINVAL like the kernel would give: interface names are 1-15 bytes.
    ErrnoError(env, EINVAL, "PacketSocket", name_).ThrowAsJavaScriptException();
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
  // A larger queue rides out a stalled event loop or a burst; the kernel caps it at rmem_max.
  if (info.Length() > 6 && info[6].IsNumber()) {
    int bytes = info[6].As<Napi::Number>().Int32Value();
    if (bytes > 0 && setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) < 0) { Fail(env, errno, "setsockopt(SO_RCVBUF)"); return; }
  }

  unsigned int ifindex = if_nametoindex(name_.c_str());
  if (ifindex == 0) { Fail(env, errno, "if_nametoindex"); return; }
  sockaddr_ll addr;
  memset(&addr, 0, sizeof addr);
  addr.sll_family = AF_PACKET;
  addr.sll_protocol = htons(static_cast<uint16_t>(ether_type));
  addr.sll_ifindex = static_cast<int>(ifindex);
  if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) { Fail(env, errno, "bind"); return; }
  ifindex_ = static_cast<int>(ifindex);

  // Kernel receive timestamps (CLOCK_REALTIME, ns) for latency measurement.
  if (info.Length() > 5 && info[5].ToBoolean().Value()) {
    if (setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0) { Fail(env, errno, "setsockopt(SO_TIMESTAMPNS)"); return; }
    timestamps_ = true;
  }
  StartReceiving(env, info[3].As<Napi::Function>(), info[4].As<Napi::Function>(), "BallastPacketSocket");
}

PacketSocket::~PacketSocket() { CloseGroupFd(); }

void PacketSocket::CloseFd() {
  CloseGroupFd();
  PolledSocket<PacketSocket>::CloseFd();
}

void PacketSocket::CloseGroupFd() {
  if (group_fd_ >= 0) close(group_fd_);
  group_fd_ = -1;
}

void PacketSocket::ReceiveBatch(Napi::Env env) {
  // Every frame is received into the same JS ArrayBuffer and handed up as a
  // view of it: no allocation or copy per frame. A view is valid only until
  // the callback returns (the next frame overwrites it).
  Napi::ArrayBuffer receive_buffer = ReceiveBuffer(env);
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
    FrameMeta meta = DescribeReceived(n, buffer_size, msg);
    Napi::HandleScope frame_scope(env);
    Napi::Uint8Array frame = Napi::Uint8Array::New(env, meta.length, receive_buffer, 0);
    Napi::Value stamp = meta.has_timestamp ? Napi::BigInt::New(env, meta.timestamp_ns) : env.Undefined();
    on_frame_.Call({frame, Napi::Number::New(env, from.sll_pkttype), stamp});
    if (!RethrowPending(env)) return;
  }
}

Napi::Value PacketSocket::Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    Napi::TypeError::New(env, "send(frame: Uint8Array)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (fd_ < 0) return Napi::String::New(env, "EBADF");
  Napi::Uint8Array frame = info[0].As<Napi::Uint8Array>();
  // send(frame, notAfterMs): the answer rests on a verdict valid until then (CLOCK_MONOTONIC, ms,
  // process.hrtime's clock). Checked here, the last instructions before the syscall: a thread frozen
  // (docker pause, SIGSTOP) or preempted between deciding and sending would otherwise let the frame
  // out after the thaw, long after peers took the IP over.
  bool bounded = info.Length() > 1 && info[1].IsNumber();
  double not_after_ms = bounded ? info[1].As<Napi::Number>().DoubleValue() : 0;
  for (;;) {
    if (bounded) {
      timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      if (static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6 > not_after_ms) return Napi::String::New(env, "ETIME");
    }
    ssize_t n = send(fd_, frame.Data(), frame.ByteLength(), MSG_DONTWAIT);
    if (n >= 0) return env.Undefined();
    if (errno != EINTR) return Napi::String::New(env, ErrnoName(errno));
  }
}

Napi::Value PacketSocket::Membership(const Napi::CallbackInfo& info, int option) {
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

Napi::Value PacketSocket::AddMembership(const Napi::CallbackInfo& info) { return Membership(info, PACKET_ADD_MEMBERSHIP); }
Napi::Value PacketSocket::DropMembership(const Napi::CallbackInfo& info) { return Membership(info, PACKET_DROP_MEMBERSHIP); }

// IPv6 multicast membership through the kernel, on this socket's interface
// by index (no name lookup that could race with the interface being
// replaced). The kernel then sends MLD reports, so MLD-snooping switches
// forward the group to us, and programs the NIC's multicast filter. Held by
// a never-bound UDP socket that receives nothing and closes with us.
Napi::Value PacketSocket::Group(const Napi::CallbackInfo& info, int option) {
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

Napi::Value PacketSocket::JoinGroup(const Napi::CallbackInfo& info) { return Group(info, IPV6_ADD_MEMBERSHIP); }
Napi::Value PacketSocket::LeaveGroup(const Napi::CallbackInfo& info) { return Group(info, IPV6_DROP_MEMBERSHIP); }

// The interface's index and current hardware address (getsockname on a
// bound packet socket reports the device's address).
Napi::Value PacketSocket::Info(const Napi::CallbackInfo& info) {
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

// Frames received and dropped by the kernel (queue full) since the socket
// opened. PACKET_STATISTICS counts since its last read, so we add up.
Napi::Value PacketSocket::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (fd_ >= 0) {
    tpacket_stats stats;
    socklen_t len = sizeof stats;
    if (getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &stats, &len) == 0) {
      // tp_packets counts dropped frames too.
      received_ += stats.tp_packets - stats.tp_drops;
      dropped_ += stats.tp_drops;
    }
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("received", Napi::Number::New(env, static_cast<double>(received_)));
  out.Set("dropped", Napi::Number::New(env, static_cast<double>(dropped_)));
  return out;
}

}  // namespace ballast
