#ifndef BALLAST_PACKET_SOCKET_H
#define BALLAST_PACKET_SOCKET_H

#include <stdint.h>

#include "polled_socket.h"

namespace ballast {

class PacketSocket : public PolledSocket<PacketSocket> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit PacketSocket(const Napi::CallbackInfo& info);
  ~PacketSocket() override;

  void ReceiveBatch(Napi::Env env);

 private:
  void CloseFd() override;
  void CloseGroupFd();
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value Membership(const Napi::CallbackInfo& info, int option);
  Napi::Value AddMembership(const Napi::CallbackInfo& info);
  Napi::Value DropMembership(const Napi::CallbackInfo& info);
  Napi::Value Group(const Napi::CallbackInfo& info, int option);
  Napi::Value JoinGroup(const Napi::CallbackInfo& info);
  Napi::Value LeaveGroup(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);

  int group_fd_ = -1;
  bool timestamps_ = false;
  int ifindex_ = 0;
  uint64_t received_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace ballast

#endif
