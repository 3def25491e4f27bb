// A channel as the BEAM holds it: a resource (py_channel:new/0,1 returns its term; Python
// objects hold it by reference count), so a channel lives as long as any Erlang term or
// Python object refers to it, and is freed with everything in it when the last one goes.
//
// Erlang processes that wait on it (py_channel:receive/2, send/3) are channel waiters
// that enif_send a wake-up, {py_channel_ready, Tag} or {py_channel_room, Tag}; they are
// monitored (through the resource), so a waiter that dies is dropped.
#pragma once

#include <erl_nif.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "channels/channel.hpp"
#include "nif/bridge/owned_env.hpp"

namespace epy::nif {

enum class WaitKind { receive, room };

class ErlangWaiter final : public channels::ChannelWaiter {
 public:
  ErlangWaiter(const ErlNifPid& pid, ERL_NIF_TERM tag, WaitKind kind);
  ~ErlangWaiter() override;
  bool notify() override;

  ErlNifPid pid;
  WaitKind kind;
  ErlNifMonitor monitor{};

 private:
  OwnedEnv env_;
  ERL_NIF_TERM tag_;
};

struct ChannelResource {
  explicit ChannelResource(std::size_t max_bytes) : channel(max_bytes) {}

  channels::Channel channel;
  // Erlang waiters by (pid, Tag). Taken before the channel's own lock, never after.
  std::mutex waiters_mutex;
  std::unordered_map<std::uint64_t, std::unique_ptr<ErlangWaiter>> waiters;
};

bool open_channel_resource_type(ErlNifEnv* env);

// Channels alive now (for statistics, and the tests that check channels are freed).
long live_channels();

// A new channel (a resource holding one reference, the caller's); nullptr on failure.
ChannelResource* new_channel(std::size_t max_bytes);
bool get_channel(ErlNifEnv* env, ERL_NIF_TERM term, ChannelResource** out);
ERL_NIF_TERM channel_term(ErlNifEnv* env, ChannelResource* res);
void keep_channel(ChannelResource* res);
void release_channel(ChannelResource* res);

// Waiters_mutex held. The calling process's waiter under Tag, made and monitored on first
// use (nullptr if the caller could not be monitored); `key` identifies it afterwards.
ErlangWaiter* erlang_waiter(ErlNifEnv* env, ChannelResource* res, ERL_NIF_TERM tag, WaitKind kind,
                            std::uint64_t* key);
// Waiters_mutex held. Takes the waiter off the channel (handing on a wake-up it got) and
// forgets it. By tag: the calling process's waiter under Tag, if any.
void drop_erlang_waiter(ErlNifEnv* env, ChannelResource* res, std::uint64_t key);
void drop_erlang_waiter_by_tag(ErlNifEnv* env, ChannelResource* res, ERL_NIF_TERM tag);

}  // namespace epy::nif
