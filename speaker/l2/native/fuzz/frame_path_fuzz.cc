// libFuzzer target for the addon's frame path (../frame_path.cc): what a
// received frame's length, flags and control messages become before a byte
// reaches JavaScript. Input: 4 bytes of what recvmsg returned, 2 of the
// receive buffer size, 1 of flags (MSG_TRUNC or not), 1 of prefix length, the
// prefix, then the control buffer exactly as the kernel would have filled it
// (any bytes: the fuzzer plays a kernel that lies). Checked: nothing reads
// outside the control buffer (AddressSanitizer), the length handed up never
// exceeds the buffer, and the prefix test never reads past the frame.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <vector>

#include "../frame_path.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  int32_t received;
  memcpy(&received, data, 4);
  uint16_t buffer_size;
  memcpy(&buffer_size, data + 4, 2);
  bool truncated_flag = (data[6] & 1) != 0;
  size_t prefix_length = data[7] % 17;
  if (size < 8 + prefix_length) return 0;
  const uint8_t* prefix = data + 8;
  const uint8_t* rest = data + 8 + prefix_length;
  size_t rest_size = size - 8 - prefix_length;

  // The control buffer in its own allocation, so ASan sees any read past it.
  std::vector<uint8_t> control_bytes(rest, rest + rest_size);
  void* control = rest_size > 0 ? malloc(rest_size) : nullptr;
  if (control != nullptr) memcpy(control, control_bytes.data(), rest_size);
  msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_control = control;
  msg.msg_controllen = rest_size;
  msg.msg_flags = truncated_flag ? MSG_TRUNC : 0;

  ballast::FrameMeta meta = ballast::DescribeReceived(received, buffer_size, msg);
  if (meta.length > buffer_size) abort();
  if (received > 0 && static_cast<size_t>(received) <= buffer_size && !truncated_flag && meta.truncated) abort();

  // The frame as the buffer would hold it: the prefix test must stay inside it.
  std::vector<uint8_t> frame(meta.length);
  for (size_t i = 0; i < frame.size(); i++) frame[i] = static_cast<uint8_t>(i);
  uint8_t* heap_frame = meta.length > 0 ? static_cast<uint8_t*>(malloc(meta.length)) : nullptr;
  if (heap_frame != nullptr) memcpy(heap_frame, frame.data(), meta.length);
  bool starts = ballast::StartsWith(heap_frame, meta.length, prefix, prefix_length);
  if (starts && meta.length < prefix_length) abort();
  free(heap_frame);
  free(control);
  return 0;
}
