#ifndef BALLAST_DATAGRAM_SOCKET_H
#define BALLAST_DATAGRAM_SOCKET_H

#include <stdint.h>

#include <vector>

#include "polled_socket.h"

namespace ballast {

class DatagramSocket : public PolledSocket<DatagramSocket> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit DatagramSocket(const Napi::CallbackInfo& info);

  void ReceiveBatch(Napi::Env env);

 private:
  Napi::Value SendTo(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);

  std::vector<uint8_t> prefix_;
  uint64_t received_ = 0;
  uint64_t rejected_ = 0;
  // The kernel's own count (SO_RXQ_OVFL), as of the last datagram received.
  uint32_t dropped_ = 0;
};

}  // namespace ballast

#endif
