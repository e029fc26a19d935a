// What the addon's two socket classes share: an fd read through libuv
// polling, callbacks into JavaScript that never abort the process, cleanup
// when a worker thread ends with the socket open, and the receive buffer
// every frame is handed up in (no allocation per frame).
//
// Errors never abort the process: opening throws a JS Error carrying the errno
// name in `code`; sends return the errno name (or undefined); receive-side
// errors go to the onError callback.
#ifndef BALLAST_POLLED_SOCKET_H
#define BALLAST_POLLED_SOCKET_H

#include <napi.h>
#include <uv.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace ballast {

// Frames handed to JS per poll wake-up before yielding back to the event loop.
// The poll is level-triggered, so whatever is left wakes us again at once; the
// cap only keeps a flood from starving timers and other sockets.
constexpr int kMaxFramesPerWake = 1024;
// Larger than any frame on a jumbo-frame link; the kernel reports the real
// length through MSG_TRUNC and we hand up what fits.
constexpr size_t kReceiveBufferSize = 9216 + 64;

inline std::string ErrnoName(int err) { return uv_err_name(-err); }

inline Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const std::string& what) {
  std::string message = std::string(syscall) + " " + what + ": " + strerror(err) + " (" + ErrnoName(err) + ")";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, ErrnoName(err)));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

template <typename Derived>
class PolledSocket : public Napi::ObjectWrap<Derived> {
 public:
  explicit PolledSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Derived>(info) {}

  ~PolledSocket() override {
    // Only reachable once closed (open sockets hold a reference to
    // themselves), or when the constructor failed before polling started.
    CloseFd();
    delete async_context_;
  }

 protected:
  // The uv handle lives apart from the socket object: its close completes
  // on a later loop turn, possibly after the object is gone.
  struct PollState {
    uv_poll_t handle;
    PolledSocket* owner = nullptr;
    napi_async_cleanup_hook_handle teardown_hook = nullptr;
  };

  // Called by the derived constructor once fd_ is open and bound.
  bool StartReceiving(Napi::Env env, Napi::Function on_frame, Napi::Function on_error, const char* resource) {
    on_frame_ = Napi::Persistent(on_frame);
    on_error_ = Napi::Persistent(on_error);
    receive_buffer_ = Napi::Persistent(Napi::ArrayBuffer::New(env, kReceiveBufferSize));
    async_context_ = new Napi::AsyncContext(env, resource, this->Value());
    poll_ = new PollState;
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    int rc = uv_poll_init(loop, &poll_->handle, fd_);
    if (rc < 0) {
      delete poll_;
      poll_ = nullptr;
      Fail(env, -rc, "uv_poll_init");
      return false;
    }
    poll_->handle.data = poll_;
    poll_->owner = this;
    // A worker thread that ends with this socket open (terminate(), process
    // exit) must not find the poll handle still open when it closes its
    // loop: Node aborts then. The hook closes it and tells Node when done.
    napi_add_async_cleanup_hook(env, &PolledSocket::OnEnvTeardown, poll_, &poll_->teardown_hook);
    StartPolling();
    // Held while open: a socket that still receives must not be collected.
    this->Ref();
    return true;
  }

  void Fail(Napi::Env env, int err, const char* syscall) {
    Napi::Error error = ErrnoError(env, err, syscall, name_);
    CloseFd();
    error.ThrowAsJavaScriptException();
  }

  virtual void CloseFd() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
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
    Napi::Error error = ErrnoError(env, err, syscall, name_);
    error.Set("fatal", Napi::Boolean::New(env, fatal));
    on_error_.Call({error.Value()});
    return RethrowPending(env);
  }

  // The receive buffer as JS sees it (re-made if a callback detached it).
  Napi::ArrayBuffer ReceiveBuffer(Napi::Env env) {
    Napi::ArrayBuffer buffer = receive_buffer_.Value();
    if (buffer.Data() == nullptr || buffer.ByteLength() == 0) {
      buffer = Napi::ArrayBuffer::New(env, kReceiveBufferSize);
      receive_buffer_ = Napi::Persistent(buffer);
    }
    return buffer;
  }

  // Reads what the kernel has queued now, without waiting for the poll
  // callback: a caller about to act on "nothing arrived by the deadline" reads
  // the socket dry first, since after an event-loop stall the timer phase runs
  // before the poll phase that would have delivered the frames.
  Napi::Value DrainNow(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ >= 0) {
      Napi::HandleScope scope(env);
      Napi::Object self = this->Value();
      (void)self;
      static_cast<Derived*>(this)->ReceiveBatch(env);
    }
    return env.Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (fd_ < 0) return info.Env().Undefined();
    ClosePoll();
    CloseFd();
    on_frame_.Reset();
    on_error_.Reset();
    receive_buffer_.Reset();
    this->Unref();
    return info.Env().Undefined();
  }

  std::string name_;
  int fd_ = -1;
  Napi::FunctionReference on_frame_;
  Napi::FunctionReference on_error_;

 private:
  void StartPolling() { uv_poll_start(&poll_->handle, UV_READABLE, &PolledSocket::OnPoll); }

  static void OnPoll(uv_poll_t* handle, int status, int /*events*/) {
    PollState* state = static_cast<PollState*>(handle->data);
    if (state->owner != nullptr) state->owner->OnReadable(status);
  }

  void OnReadable(int status) {
    if (fd_ < 0) return;
    Napi::Env env = this->Env();
    Napi::HandleScope handle_scope(env);
    // Keeps this object alive even if a callback closes it mid-batch.
    Napi::Object self = this->Value();
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
    static_cast<Derived*>(this)->ReceiveBatch(env);
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
    PolledSocket* socket = state->owner;
    socket->ClosePoll();
    socket->CloseFd();
  }

  Napi::Reference<Napi::ArrayBuffer> receive_buffer_;
  PollState* poll_ = nullptr;
  Napi::AsyncContext* async_context_ = nullptr;
};

}  // namespace ballast

#endif
