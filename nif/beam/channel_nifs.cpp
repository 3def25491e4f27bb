// py_channel's NIFs: channels from Erlang. Sends copy the term into a message of its own;
// receives copy the message's term into the caller. Waiting is done in Erlang (a receive
// for {py_channel_ready | py_channel_room, Tag}); these only register and cancel waiters.
// Big messages are copied on a dirty scheduler, both ways (see scheduler_budget.hpp).
#include "nif/beam/channel_nifs.hpp"

#include "nif/beam/arguments.hpp"
#include "nif/beam/scheduler_budget.hpp"
#include "nif/bridge/atoms.hpp"
#include "nif/bridge/caller_env.hpp"
#include "nif/bridge/channel_payload.hpp"
#include "nif/bridge/channel_resource.hpp"

namespace epy::nif {

namespace {

// A payload's bytes (term_bytes: 8 a word, 16 a list cell) in budget units.
constexpr std::size_t kPayloadBytesPerUnit = 16;

// Dirty scheduler: the copy of a message a receive took on a normal scheduler.
ERL_NIF_TERM deliver_held(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  channels::Payload p;
  if (!take_held_payload(env, argv[0], &p)) return badarg(env, "message");
  return enif_make_tuple2(env, atoms.ok, enif_make_copy(env, term_message(p).term));
}

// {ok, Term}: copied here if small, else on a dirty scheduler.
ERL_NIF_TERM received(ErlNifEnv* env, channels::Payload p) {
  WorkMeter work;
  if (!work.add_units(p.bytes() / kPayloadBytesPerUnit)) {
    const ERL_NIF_TERM held = hold_payload(env, std::move(p));
    return run_dirty(env, DirtySite::channel_receive, deliver_held, 1, &held);
  }
  charge(env, work);
  return enif_make_tuple2(env, atoms.ok, enif_make_copy(env, term_message(p).term));
}

ERL_NIF_TERM put(ErlNifEnv* env, ERL_NIF_TERM map, const char* key, ERL_NIF_TERM value) {
  enif_make_map_put(env, map, enif_make_atom(env, key), value, &map);
  return map;
}

}  // namespace

// channel_new(MaxBytes) -> {ok, Channel}; MaxBytes 0: no bound.
ERL_NIF_TERM nif_channel_new(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  ErlNifUInt64 max_bytes;
  if (!enif_get_uint64(env, argv[0], &max_bytes)) return badarg(env, "max_size");
  ChannelResource* res = new_channel(std::size_t(max_bytes));
  if (!res) return enif_make_tuple2(env, atoms.error, enif_make_atom(env, "enomem"));
  ERL_NIF_TERM term = channel_term(env, res);
  release_channel(res);  // the term holds it now
  return enif_make_tuple2(env, atoms.ok, term);
}

// channel_send(Channel, Term) -> ok | busy | closed
ERL_NIF_TERM nif_channel_send(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return within_budget(env, DirtySite::channel_send, nif_channel_send, argc, argv, {argv[1]},
                       Bytes::shared, [&] {
                         ChannelResource* res;
                         if (!get_channel(env, argv[0], &res)) return badarg(env, "channel");
                         CallerEnvScope scope(env);  // a waiting process is woken from here
                         channels::Payload message = make_term_payload(env, argv[1]);
                         switch (res->channel.send(message)) {
                           case channels::Channel::SendResult::ok:
                             return atoms.ok;
                           case channels::Channel::SendResult::full:
                             return atoms.busy;
                           case channels::Channel::SendResult::closed:
                             break;
                         }
                         return atoms.closed;
                       });
}

// channel_send_wait(Channel, Term, Tag) -> ok | busy | closed
// busy: the caller gets {py_channel_room, Tag} once a receive makes room (or the channel
// closes), and then tries again.
ERL_NIF_TERM nif_channel_send_wait(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
  return within_budget(
      env, DirtySite::channel_send, nif_channel_send_wait, argc, argv, {argv[1]}, Bytes::shared,
      [&] {
        ChannelResource* res;
        if (!get_channel(env, argv[0], &res)) return badarg(env, "channel");
        CallerEnvScope scope(env);
        channels::Payload message = make_term_payload(env, argv[1]);
        std::lock_guard<std::mutex> lock(res->waiters_mutex);
        std::uint64_t key;
        ErlangWaiter* waiter = erlang_waiter(env, res, argv[2], WaitKind::room, &key);
        if (!waiter) return atoms.closed;  // the caller is not alive
        const auto result = res->channel.send_or_wait(message, waiter);
        if (result == channels::Channel::SendResult::full) return atoms.busy;
        drop_erlang_waiter(env, res, key);
        return result == channels::Channel::SendResult::ok ? atoms.ok : atoms.closed;
      });
}

// channel_receive(Channel, Tag) -> {ok, Term} | waiting | closed
// waiting: the caller gets {py_channel_ready, Tag} once a message may be there (or the
// channel closes), and then tries again (or cancels).
ERL_NIF_TERM nif_channel_receive(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  ChannelResource* res;
  if (!get_channel(env, argv[0], &res)) return badarg(env, "channel");
  CallerEnvScope scope(env);
  channels::Payload message;
  std::lock_guard<std::mutex> lock(res->waiters_mutex);
  std::uint64_t key;
  ErlangWaiter* waiter = erlang_waiter(env, res, argv[1], WaitKind::receive, &key);
  if (!waiter) return atoms.closed;
  const auto result = res->channel.receive_or_wait(&message, waiter);
  if (result == channels::Channel::WaitResult::waiting) return atoms.waiting;
  drop_erlang_waiter(env, res, key);
  return result == channels::Channel::WaitResult::received ? received(env, std::move(message))
                                                           : atoms.closed;
}

// channel_cancel(Channel, Tag) -> ok: the caller no longer waits under Tag (for a
// message or for room).
ERL_NIF_TERM nif_channel_cancel(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  ChannelResource* res;
  if (!get_channel(env, argv[0], &res)) return badarg(env, "channel");
  CallerEnvScope scope(env);
  std::lock_guard<std::mutex> lock(res->waiters_mutex);
  drop_erlang_waiter_by_tag(env, res, argv[1]);
  return atoms.ok;
}

// channel_try_receive(Channel) -> {ok, Term} | empty | closed
ERL_NIF_TERM nif_channel_try_receive(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  ChannelResource* res;
  if (!get_channel(env, argv[0], &res)) return badarg(env, "channel");
  CallerEnvScope scope(env);  // a waiting sender is woken from here
  channels::Payload message;
  switch (res->channel.try_receive(&message)) {
    case channels::Channel::ReceiveResult::received:
      return received(env, std::move(message));
    case channels::Channel::ReceiveResult::empty:
      return atoms.empty;
    case channels::Channel::ReceiveResult::closed:
      break;
  }
  return atoms.closed;
}

// channel_close(Channel) -> ok
ERL_NIF_TERM nif_channel_close(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  ChannelResource* res;
  if (!get_channel(env, argv[0], &res)) return badarg(env, "channel");
  CallerEnvScope scope(env);
  res->channel.close();
  return atoms.ok;
}

// channel_info(Channel) -> #{size, count, max_size, closed, receivers}
ERL_NIF_TERM nif_channel_info(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  ChannelResource* res;
  if (!get_channel(env, argv[0], &res)) return badarg(env, "channel");
  const channels::Channel::Info info = res->channel.info();
  ERL_NIF_TERM map = enif_make_new_map(env);
  map = put(env, map, "size", enif_make_uint64(env, info.bytes));
  map = put(env, map, "count", enif_make_uint64(env, info.count));
  map = put(env, map, "max_size",
            info.max_bytes ? enif_make_uint64(env, info.max_bytes) : atoms.infinity);
  map = put(env, map, "closed", info.closed ? atoms.true_ : atoms.false_);
  map = put(env, map, "receivers", enif_make_uint64(env, info.receivers));
  return map;
}

// is_channel(Term) -> boolean()
ERL_NIF_TERM nif_is_channel(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  ChannelResource* res;
  return get_channel(env, argv[0], &res) ? atoms.true_ : atoms.false_;
}

}  // namespace epy::nif
