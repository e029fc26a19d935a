// What the addon does with a received frame before JavaScript sees it, free
// of sockets and of N-API so that a fuzzer can drive it (fuzz/frame_path_fuzz.cc):
// the length actually handed up, and what the kernel's control messages say
// (receive timestamp, arrival interface, the socket's drop counter).
#ifndef BALLAST_FRAME_PATH_H
#define BALLAST_FRAME_PATH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

namespace ballast {

struct FrameMeta {
  // Bytes of the frame in the receive buffer (never more than the buffer).
  size_t length = 0;
  // The frame was longer than the buffer (the kernel said so through MSG_TRUNC).
  bool truncated = false;
  bool has_timestamp = false;
  uint64_t timestamp_ns = 0;
  // Arrival interface from IP_PKTINFO / IPV6_PKTINFO; 0 when absent.
  int ifindex = 0;
  // SO_RXQ_OVFL: frames the kernel dropped on this socket since it was opened.
  bool has_drops = false;
  uint32_t drops = 0;
};

// `received` is what recvmsg returned (> 0), `buffer_size` the size of the
// buffer it wrote to, `msg` the msghdr it filled (msg_controllen, msg_flags).
// Malformed control messages are skipped, never read past.
FrameMeta DescribeReceived(ssize_t received, size_t buffer_size, const msghdr& msg);

// Whether a datagram may be a heartbeat: at least `prefix_length` bytes that
// start with `prefix` (magic and version). Anything else is counted and
// dropped without waking JavaScript: a flood of garbage costs a compare.
bool StartsWith(const uint8_t* data, size_t length, const uint8_t* prefix, size_t prefix_length);

}  // namespace ballast

#endif
