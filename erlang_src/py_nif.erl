%% @doc The NIF library: thin stubs, replaced when the library loads.
%%
%% The library is found in the application's priv directory, or in ../priv next to this
%% module's ebin when the application is not on the code path yet. Every function here
%% returns at once: Python runs on the contexts' own threads, never on a scheduler.
%% @private
-module(py_nif).

-export([engine_info/0]).
-export([context_create/4]).
-export([context_stop/3]).
-export([context_info/1]).
-export([context_pids/0]).
-export([set_log_sink/2]).
-export([set_venv/2]).
-export([venv/0]).
-export([state_store/2]).
-export([state_fetch/1]).
-export([state_add/2]).
-export([state_keys/0]).
-export([state_remove/1]).
-export([state_clear/0]).
-export([state_cas/3]).
-export([state_subscribe/1]).
-export([state_unsubscribe/1]).
-export([state_limits/2]).
-export([set_callback_handler/2]).
-export([callback_names/1]).
-export([callback_reply/2]).
-export([call/6]).
-export([call_async/6]).
-export([cast/5]).
-export([task/6]).
-export([spawn_task/5]).
-export([channel_new/1]).
-export([channel_send/2]).
-export([channel_send_wait/3]).
-export([channel_receive/2]).
-export([channel_try_receive/1]).
-export([channel_cancel/2]).
-export([channel_close/1]).
-export([channel_info/1]).
-export([is_channel/1]).
-export([dup_fd/1]).
-export([handoff_fd/1]).
-export([close_fd/1]).
-export([fuzz_convert/1]).
-export([eval/4]).
-export([exec/3]).
-export([cancel/2]).
-export([interrupt/1]).
-export([pick/2]).

-on_load(init/0).

-define(NIF_NAME, "erlang_python_nif").

init() ->
    Priv = priv_dir(),
    LoadInfo = #{python_dir => unicode:characters_to_binary(filename:join(Priv, "python")),
                 atom_budget => application:get_env(erlang_python, atom_budget, 10000),
                 max_idle_interpreters =>
                     application:get_env(erlang_python, max_idle_interpreters, 16),
                 context_priority =>
                     atom_to_binary(application:get_env(erlang_python, context_priority, adaptive))},
    erlang:load_nif(filename:join(Priv, ?NIF_NAME), LoadInfo).

priv_dir() ->
    case code:priv_dir(erlang_python) of
        {error, bad_name} ->
            Ebin = filename:dirname(code:which(?MODULE)),
            filename:join(filename:dirname(Ebin), "priv");
        Dir ->
            Dir
    end.

-define(NOT_LOADED, erlang:nif_error({not_loaded, ?MODULE})).

%% #{python_version, subinterp_supported, free_threaded, atom_budget, live_channels,
%%   live_channel_messages, sandbox, sandbox_blocked}
engine_info() -> ?NOT_LOADED.

%% (Ref, Id, Mode, Opts) -> {ok, Resource} | {error, Reason}; the caller owns the context
%% and receives {py_context_ready, Ref, ok | {error, Message}}.
context_create(_Ref, _Id, _Mode, _Opts) -> ?NOT_LOADED.

%% (Resource, Reason, Ref) -> ok; the caller receives {py_context_stopped, Ref} when the
%% context's thread has finished.
context_stop(_Resource, _Reason, _Ref) -> ?NOT_LOADED.

context_info(_Ctx) -> ?NOT_LOADED.

%% Every registered context (its owner's pid).
context_pids() -> ?NOT_LOADED.

%% (Pid | undefined, PythonLevelNumber) -> ok: where Python's logging records go.
set_log_sink(_Pid, _Level) -> ?NOT_LOADED.

%% (Path | undefined, SiteDirs) -> ok: the virtual environment every context applies
%% before its next request (py_venv checks the paths).
set_venv(_Path, _SiteDirs) -> ?NOT_LOADED.

%% undefined | {Path, SiteDirs}
venv() -> ?NOT_LOADED.

%% Requests: ok | {error, Reason} at once; the caller then receives
%% {py_result, Ref, {ok, Value} | ok | {error, Reason}}. call/6, eval/4 and exec/3 may
%% instead return that message itself, when the context answered while the NIF waited
%% (only on a quiet machine, for a context that answers at once).
call(_Ctx, _Ref, _Module, _Function, _Args, _Kwargs) -> ?NOT_LOADED.
call_async(_Ctx, _Ref, _Module, _Function, _Args, _Kwargs) -> ?NOT_LOADED.
cast(_Ctx, _Module, _Function, _Args, _Kwargs) -> ?NOT_LOADED.
task(_Ctx, _Ref, _Module, _Function, _Args, _Kwargs) -> ?NOT_LOADED.
spawn_task(_Ctx, _Module, _Function, _Args, _Kwargs) -> ?NOT_LOADED.
channel_new(_MaxBytes) -> ?NOT_LOADED.
channel_send(_Ch, _Term) -> ?NOT_LOADED.
channel_send_wait(_Ch, _Term, _Tag) -> ?NOT_LOADED.
channel_receive(_Ch, _Tag) -> ?NOT_LOADED.
channel_try_receive(_Ch) -> ?NOT_LOADED.
channel_cancel(_Ch, _Tag) -> ?NOT_LOADED.
channel_close(_Ch) -> ?NOT_LOADED.
channel_info(_Ch) -> ?NOT_LOADED.
is_channel(_Term) -> ?NOT_LOADED.
dup_fd(_Fd) -> ?NOT_LOADED.
handoff_fd(_Fd) -> ?NOT_LOADED.
close_fd(_Fd) -> ?NOT_LOADED.
%% Only in fuzz builds (cmake -DEPY_FUZZ=ON, see scripts/fuzz.sh).
fuzz_convert(_LibFuzzerArgs) -> ?NOT_LOADED.
eval(_Ctx, _Ref, _Code, _Locals) -> ?NOT_LOADED.
exec(_Ctx, _Ref, _Code) -> ?NOT_LOADED.

%% (Ctx | all, Ref) -> cancelled | not_pending
cancel(_CtxOrAll, _Ref) -> ?NOT_LOADED.

interrupt(_Ctx) -> ?NOT_LOADED.

%% (tuple(Ctx), Preferred) -> Ctx: the preferred context unless another is less loaded.
pick(_Contexts, _Preferred) -> ?NOT_LOADED.

%% The shared state (see py:state_store/2 and friends).
state_store(_Key, _Value) -> ?NOT_LOADED.
state_fetch(_Key) -> ?NOT_LOADED.
state_add(_Key, _Delta) -> ?NOT_LOADED.
state_keys() -> ?NOT_LOADED.
state_remove(_Key) -> ?NOT_LOADED.
state_clear() -> ?NOT_LOADED.
state_cas(_Key, _Expected, _New) -> ?NOT_LOADED.
state_subscribe(_Key) -> ?NOT_LOADED.
state_unsubscribe(_Key) -> ?NOT_LOADED.
%% (MaxEntries, MaxBytes) -> ok; 0 means unbounded.
state_limits(_MaxEntries, _MaxBytes) -> ?NOT_LOADED.

%% Python calling Erlang (see py_callback).
set_callback_handler(_PidOrUndefined, _TimeoutMs) -> ?NOT_LOADED.
callback_names(_Names) -> ?NOT_LOADED.
callback_reply(_Token, _Result) -> ?NOT_LOADED.
