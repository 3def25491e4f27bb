// An ErlNifEnv of our own (enif_alloc_env), freed with its owner.
#pragma once

#include <erl_nif.h>

#include <utility>

namespace epy::nif {

class OwnedEnv {
 public:
  OwnedEnv() : env_(enif_alloc_env()) {}
  ~OwnedEnv() {
    if (env_) enif_free_env(env_);
  }
  OwnedEnv(OwnedEnv&& o) noexcept : env_(std::exchange(o.env_, nullptr)) {}
  OwnedEnv& operator=(OwnedEnv&& o) noexcept {
    if (this != &o) {
      if (env_) enif_free_env(env_);
      env_ = std::exchange(o.env_, nullptr);
    }
    return *this;
  }
  OwnedEnv(const OwnedEnv&) = delete;
  OwnedEnv& operator=(const OwnedEnv&) = delete;

  ErlNifEnv* get() const { return env_; }
  // Drops every term built in it (the env stays usable).
  void clear() { enif_clear_env(env_); }

 private:
  ErlNifEnv* env_;
};

}  // namespace epy::nif
