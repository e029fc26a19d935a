// A UDP socket on one port for IPv4 and IPv6 (a dual-stack AF_INET6 socket),
// for the speakers' heartbeats over IP: the path that passes networks which
// drop frames of unknown EtherTypes but let IP through (port security,
// hypervisor firewalls). Node's dgram module cannot tell which interface a
// datagram arrived on, cap the queue, report the kernel's drops, or drop
// garbage before it reaches JavaScript; this does all four.
#include "datagram_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/uio.h>

#include <algorithm>

#include "frame_path.h"

namespace ballast {

Napi::Function DatagramSocket::Init(Napi::Env env) {
  return DefineClass(env, "DatagramSocket",
                     {
                         InstanceMethod("sendTo", &DatagramSocket::SendTo),
                         InstanceMethod("stats", &DatagramSocket::Stats),
                         InstanceMethod("drain", &DatagramSocket::DrainNow),
                         InstanceMethod("close", &DatagramSocket::Close),
                     });
}

// new DatagramSocket(port, prefix: Buffer, onDatagram(data, ifindex, from: Buffer(16), fromPort), onError, receiveBufferBytes)
DatagramSocket::DatagramSocket(const Napi::CallbackInfo& info) : PolledSocket<DatagramSocket>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsBuffer() || !info[2].IsFunction() || !info[3].IsFunction()) {
    Napi::TypeError::New(env, "DatagramSocket(port, prefix, onDatagram, onError, receiveBufferBytes?)").ThrowAsJavaScriptException();
    return;
  }
  uint32_t port = info[0].As<Napi::Number>().Uint32Value();
  Napi::Buffer<uint8_t> prefix = info[1].As<Napi::Buffer<uint8_t>>();
  prefix_.assign(prefix.Data(), prefix.Data() + std::min<size_t>(prefix.Length(), 16));
  name_ = "udp/" + std::to_string(port);
  if (port == 0 || port > 0xffff) {
    ErrnoError(env, EINVAL, "DatagramSocket", name_).ThrowAsJavaScriptException();
    return;
  }
  fd_ = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) { Fail(env, errno, "socket"); return; }
  int zero = 0;
  int one = 1;
  // IPv4 too, as mapped addresses: one socket, one queue, one drop counter.
  if (setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0) { Fail(env, errno, "setsockopt(IPV6_V6ONLY)"); return; }
  if (setsockopt(fd_, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) < 0) { Fail(env, errno, "setsockopt(IPV6_RECVPKTINFO)"); return; }
  if (setsockopt(fd_, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) < 0) { Fail(env, errno, "setsockopt(IP_PKTINFO)"); return; }
  if (setsockopt(fd_, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one) < 0) { Fail(env, errno, "setsockopt(SO_RXQ_OVFL)"); return; }
  if (info.Length() > 4 && info[4].IsNumber()) {
    int bytes = info[4].As<Napi::Number>().Int32Value();
    if (bytes > 0 && setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) < 0) { Fail(env, errno, "setsockopt(SO_RCVBUF)"); return; }
  }
  sockaddr_in6 addr;
  memset(&addr, 0, sizeof addr);
  addr.sin6_family = AF_INET6;
  addr.sin6_port = htons(static_cast<uint16_t>(port));
  addr.sin6_addr = in6addr_any;
  if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) { Fail(env, errno, "bind"); return; }
  StartReceiving(env, info[2].As<Napi::Function>(), info[3].As<Napi::Function>(), "BallastDatagramSocket");
}

void DatagramSocket::ReceiveBatch(Napi::Env env) {
  Napi::ArrayBuffer receive_buffer = ReceiveBuffer(env);
  uint8_t* buffer = static_cast<uint8_t*>(receive_buffer.Data());
  size_t buffer_size = receive_buffer.ByteLength();
  for (int i = 0; i < kMaxFramesPerWake && fd_ >= 0; i++) {
    sockaddr_in6 from;
    iovec iov = {buffer, buffer_size};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(in_pktinfo)) + CMSG_SPACE(sizeof(uint32_t))];
    msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(fd_, &msg, MSG_TRUNC);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      EmitError(env, errno, "recvmsg", false);
      break;
    }
    FrameMeta meta = DescribeReceived(n, buffer_size, msg);
    if (meta.has_drops) dropped_ = meta.drops;
    if (meta.truncated || !StartsWith(buffer, meta.length, prefix_.data(), prefix_.size())) {
      rejected_++;
      continue;
    }
    received_++;
    Napi::HandleScope frame_scope(env);
    Napi::Uint8Array data = Napi::Uint8Array::New(env, meta.length, receive_buffer, 0);
    Napi::Buffer<uint8_t> address = Napi::Buffer<uint8_t>::Copy(env, from.sin6_addr.s6_addr, 16);
    on_frame_.Call({data, Napi::Number::New(env, meta.ifindex), address, Napi::Number::New(env, ntohs(from.sin6_port))});
    if (!RethrowPending(env)) return;
  }
}

// sendTo(data, address: Buffer(16, IPv6 or IPv4-mapped), port, scopeId) → errno name | undefined
Napi::Value DatagramSocket::SendTo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array || !info[1].IsBuffer() ||
      info[1].As<Napi::Buffer<uint8_t>>().Length() != 16 || !info[2].IsNumber()) {
    Napi::TypeError::New(env, "sendTo(data: Uint8Array, address: Buffer(16), port, scopeId?)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (fd_ < 0) return Napi::String::New(env, "EBADF");
  Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
  sockaddr_in6 to;
  memset(&to, 0, sizeof to);
  to.sin6_family = AF_INET6;
  to.sin6_port = htons(static_cast<uint16_t>(info[2].As<Napi::Number>().Uint32Value()));
  memcpy(to.sin6_addr.s6_addr, info[1].As<Napi::Buffer<uint8_t>>().Data(), 16);
  if (info.Length() > 3 && info[3].IsNumber()) to.sin6_scope_id = info[3].As<Napi::Number>().Uint32Value();
  for (;;) {
    ssize_t n = sendto(fd_, data.Data(), data.ByteLength(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&to), sizeof to);
    if (n >= 0) return env.Undefined();
    if (errno != EINTR) return Napi::String::New(env, ErrnoName(errno));
  }
}

Napi::Value DatagramSocket::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("received", Napi::Number::New(env, static_cast<double>(received_)));
  out.Set("dropped", Napi::Number::New(env, static_cast<double>(dropped_)));
  out.Set("rejected", Napi::Number::New(env, static_cast<double>(rejected_)));
  return out;
}

}  // namespace ballast
