// The speaker's native addon: packet sockets (ARP, NDP, raw heartbeats) and a
// UDP socket (heartbeats over IP). See packet_socket.cc and datagram_socket.cc.
#include <napi.h>

#include "datagram_socket.h"
#include "packet_socket.h"

namespace {

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  exports.Set("PacketSocket", ballast::PacketSocket::Init(env));
  exports.Set("DatagramSocket", ballast::DatagramSocket::Init(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(ballast_packet, InitModule)
