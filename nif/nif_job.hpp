// A request from a BEAM process: its terms live in the job's own environment (copied at
// submit time, so the caller's heap is never touched from the context thread), and its
// reply goes back with enif_send as {py_result, Ref, Result}, Ref being the caller's own.
#pragma once

#include "engine/python/python.hpp"

#include <erl_nif.h>

#include <vector>

#include "engine/job.hpp"
#include "engine/python/interpreter.hpp"
#include "engine/request_table.hpp"
#include "nif/py_types.hpp"

namespace epy::nif {

// What the NIF keeps per interpreter (Interpreter::user_data): its `_erlang` module.
struct InterpreterState {
  PyObject* module = nullptr;  // owned
  ModuleState* st = nullptr;
};

// Imports `_erlang` into a freshly created interpreter (ContextConfig::on_start) and
// remembers, for this thread, the pid of the context's owning process.
bool attach_interpreter_state(Interpreter& interp, const ErlNifPid& owner, std::string* error);
void detach_interpreter_state(Interpreter& interp);

// The owning process (the Ctx pid) of the context whose thread calls this.
bool current_context_owner(ErlNifPid* out);

// {error, Reason} for a request answered with a failure.
ERL_NIF_TERM failure_term(ErlNifEnv* env, const Failure& failure);

class NifJob final : public Job {
 public:
  NifJob();
  ~NifJob() override;

  // Submitter side: copy the request out of the caller's env. `reply` false: a cast.
  void prepare_call(ErlNifEnv* caller_env, const ErlNifPid& caller, ERL_NIF_TERM ref,
                    ERL_NIF_TERM module, ERL_NIF_TERM function, ERL_NIF_TERM args,
                    ERL_NIF_TERM kwargs, bool reply);
  void prepare_code(ErlNifEnv* caller_env, const ErlNifPid& caller, ERL_NIF_TERM ref,
                    ERL_NIF_TERM code, ERL_NIF_TERM locals);

  // The process that made this request (erlang.self() in Python).
  const ErlNifPid& caller() const { return caller_; }

  bool decode_call(Interpreter& interp, CallInput& in) override;
  bool decode_code(Interpreter& interp, CodeInput& in) override;
  void reply(Interpreter& interp, MessageKind kind, PyObject* result, ReplyGate& gate) override;
  void fail(const Failure& failure, ReplyGate& gate) override;
  void recycle() noexcept override;

 private:
  PyObject* keep(PyObject* obj);  // remembers a decoded object until reply()
  void release_python();
  ERL_NIF_TERM error_from_python(ModuleState* st, const ReplyGate& gate);
  void send(ERL_NIF_TERM result);

  ErlNifEnv* env_;
  ErlNifPid caller_{};
  bool reply_ = true;
  ERL_NIF_TERM ref_ = 0, module_ = 0, function_ = 0, args_ = 0, kwargs_ = 0, code_ = 0, locals_ = 0;
  std::vector<PyObject*> owned_;  // decoded objects, released in reply()
  std::vector<PyObject*> argv_;
};

}  // namespace epy::nif
