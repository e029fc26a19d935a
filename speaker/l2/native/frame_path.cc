#include "frame_path.h"

#include <netinet/in.h>
#include <string.h>
#include <time.h>

#include <algorithm>

namespace ballast {

namespace {

// The payload of a control message, if it is long enough to hold a T.
template <typename T>
bool ReadPayload(const cmsghdr* c, const msghdr& msg, T* out) {
  const unsigned char* begin = static_cast<const unsigned char*>(msg.msg_control);
  const unsigned char* end = begin + msg.msg_controllen;
  const unsigned char* data = CMSG_DATA(c);
  if (c->cmsg_len < CMSG_LEN(sizeof(T))) return false;
  if (data < begin || data + sizeof(T) > end) return false;
  memcpy(out, data, sizeof(T));
  return true;
}

}  // namespace

FrameMeta DescribeReceived(ssize_t received, size_t buffer_size, const msghdr& msg) {
  FrameMeta meta;
  size_t n = received > 0 ? static_cast<size_t>(received) : 0;
  meta.length = std::min(n, buffer_size);
  meta.truncated = n > buffer_size || (msg.msg_flags & MSG_TRUNC) != 0;
  if (msg.msg_control == nullptr || msg.msg_controllen < sizeof(cmsghdr)) return meta;
  for (const cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(const_cast<msghdr*>(&msg), const_cast<cmsghdr*>(c))) {
    // A length shorter than the header would make CMSG_NXTHDR loop in place.
    if (c->cmsg_len < sizeof(cmsghdr)) break;
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      timespec ts;
      if (ReadPayload(c, msg, &ts) && ts.tv_sec >= 0 && ts.tv_nsec >= 0) {
        meta.has_timestamp = true;
        meta.timestamp_ns = static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
      }
    } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
      uint32_t drops;
      if (ReadPayload(c, msg, &drops)) {
        meta.has_drops = true;
        meta.drops = drops;
      }
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo info;
      if (ReadPayload(c, msg, &info)) meta.ifindex = info.ipi_ifindex;
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo info;
      if (ReadPayload(c, msg, &info)) meta.ifindex = static_cast<int>(info.ipi6_ifindex);
    }
  }
  return meta;
}

bool StartsWith(const uint8_t* data, size_t length, const uint8_t* prefix, size_t prefix_length) {
  if (length < prefix_length) return false;
  return prefix_length == 0 || memcmp(data, prefix, prefix_length) == 0;
}

}  // namespace ballast
