// A channel message from the BEAM side: a term copied into an environment of its own at
// send time (from an Erlang caller, or converted from a Python object on the sending
// context's thread), so it belongs to no process and no interpreter until a receiver
// takes it. Environments are pooled: a message costs no allocation once warm.
#pragma once

#include <erl_nif.h>

#include "channels/payload.hpp"

namespace epy::nif {

struct TermMessage {
  ErlNifEnv* env;
  ERL_NIF_TERM term;
};

// A payload holding a copy of `term` (taken from `env`), sized by term_bytes().
channels::Payload make_term_payload(ErlNifEnv* env, ERL_NIF_TERM term);

// A payload whose term the caller builds in message->env (setting message->term) before
// adopting it; discard it instead if building fails.
TermMessage* new_term_message();
channels::Payload adopt_term_message(TermMessage* message);
void discard_term_message(TermMessage* message);

inline const TermMessage& term_message(const channels::Payload& p) {
  return *static_cast<const TermMessage*>(p.data());
}

// Messages not yet freed (queued in channels, or being received).
long live_messages();

// A received payload parked in a resource while its receive moves to a dirty scheduler
// (a big message must not be copied into the receiver on a normal scheduler). The
// resource type is opened at load. take_held_payload moves the payload out, once.
bool open_held_payload_type(ErlNifEnv* env);
ERL_NIF_TERM hold_payload(ErlNifEnv* env, channels::Payload payload);
bool take_held_payload(ErlNifEnv* env, ERL_NIF_TERM held, channels::Payload* out);

// Roughly the memory a term takes (what a channel's max_size counts): 8 bytes a word,
// binaries by their size. Walks the term without recursion.
std::size_t term_bytes(ErlNifEnv* env, ERL_NIF_TERM term);

}  // namespace epy::nif
