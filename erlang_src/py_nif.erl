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

-export_type([channel/0]).

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

%% Every function answers a bad argument with {error, {badarg, What}}; none raises.
-type badarg() :: {error, {badarg, atom()}}.
-type name() :: atom() | binary().
-type ctx() :: pid().
-type channel() :: reference().
-type request_error() :: {error, overloaded | shutting_down | {context_died, term()} |
                                 {no_context, term()} | {badarg, atom()}}.
-type answer() :: {py_result, reference(), py_context:result() | ok}.
-type state_error() :: {error, not_found | not_integer | overflow | full | {badarg, atom()}}.

%%% Contexts, the engine, routing (beam/context_nifs.cpp) ---------------------------------

%% #{python_version, python_home, subinterp_supported, free_threaded, atom_budget,
%%   live_channels, live_channel_messages, sandbox, sandbox_blocked, dirty_hops,
%%   context_priority}
-spec engine_info() -> map().
engine_info() -> ?NOT_LOADED.

%% The caller owns the context and receives {py_context_ready, Ref, ok | {error, Message}}.
-spec context_create(reference(), non_neg_integer(), subinterp | multi_executor | free_threaded,
                     map()) -> {ok, reference()} | {error, term()}.
context_create(_Ref, _Id, _Mode, _Opts) -> ?NOT_LOADED.

%% The caller receives {py_context_stopped, Ref} when the context's thread has finished.
-spec context_stop(reference(), term(), reference()) -> ok | badarg().
context_stop(_Resource, _Reason, _Ref) -> ?NOT_LOADED.

-spec context_info(ctx()) -> map() | {error, {no_context, term()}}.
context_info(_Ctx) -> ?NOT_LOADED.

%% Every registered context (its owner's pid).
-spec context_pids() -> [ctx()].
context_pids() -> ?NOT_LOADED.

%% The preferred context unless another is less loaded.
-spec pick(tuple(), non_neg_integer()) -> ctx() | badarg().
pick(_Contexts, _Preferred) -> ?NOT_LOADED.

%%% Requests (beam/request_nifs.cpp) -----------------------------------------------------

%% ok at once, then the caller receives {py_result, Ref, {ok, Value} | ok | {error, Reason}};
%% call/6, eval/4 and exec/3 may instead return that message itself, when the context
%% answered while the NIF waited (only on a quiet machine, for a context that answers at
%% once). call_async/6 always answers by message.
-spec call(ctx(), reference(), name(), name(), list(), map()) -> ok | answer() | request_error().
call(_Ctx, _Ref, _Module, _Function, _Args, _Kwargs) -> ?NOT_LOADED.
-spec call_async(ctx(), reference(), name(), name(), list(), map()) -> ok | request_error().
call_async(_Ctx, _Ref, _Module, _Function, _Args, _Kwargs) -> ?NOT_LOADED.
-spec cast(ctx(), name(), name(), list(), map()) -> ok | request_error().
cast(_Ctx, _Module, _Function, _Args, _Kwargs) -> ?NOT_LOADED.
%% An awaitable result runs as a task of the context's loop; {async_result, Ref, Result}.
-spec task(ctx(), reference(), name(), name(), list(), map()) -> ok | request_error().
task(_Ctx, _Ref, _Module, _Function, _Args, _Kwargs) -> ?NOT_LOADED.
-spec spawn_task(ctx(), name(), name(), list(), map()) -> ok | request_error().
spawn_task(_Ctx, _Module, _Function, _Args, _Kwargs) -> ?NOT_LOADED.
-spec eval(ctx(), reference(), binary(), map()) -> ok | answer() | request_error().
eval(_Ctx, _Ref, _Code, _Locals) -> ?NOT_LOADED.
-spec exec(ctx(), reference(), binary()) -> ok | answer() | request_error().
exec(_Ctx, _Ref, _Code) -> ?NOT_LOADED.
%% cancelled: nothing will be sent for Ref; not_pending: its answer is (or never was) sent.
-spec cancel(ctx() | all, reference()) -> cancelled | not_pending | badarg().
cancel(_CtxOrAll, _Ref) -> ?NOT_LOADED.
%% Whether a request was running (and got a KeyboardInterrupt).
-spec interrupt(ctx()) -> boolean() | {error, {no_context, term()}}.
interrupt(_Ctx) -> ?NOT_LOADED.

%%% The shared state (beam/state_nifs.cpp; see py:state_store/2 and friends) ------------

-spec state_store(name(), term()) -> ok | state_error().
state_store(_Key, _Value) -> ?NOT_LOADED.
-spec state_fetch(name()) -> {ok, term()} | state_error().
state_fetch(_Key) -> ?NOT_LOADED.
-spec state_add(name(), integer()) -> integer() | state_error().
state_add(_Key, _Delta) -> ?NOT_LOADED.
-spec state_keys() -> [binary()].
state_keys() -> ?NOT_LOADED.
-spec state_remove(name()) -> ok | state_error().
state_remove(_Key) -> ?NOT_LOADED.
-spec state_clear() -> ok.
state_clear() -> ?NOT_LOADED.
-spec state_cas(name(), term(), term()) -> boolean() | state_error().
state_cas(_Key, _Expected, _New) -> ?NOT_LOADED.
-spec state_subscribe(name()) -> ok | state_error().
state_subscribe(_Key) -> ?NOT_LOADED.
-spec state_unsubscribe(name()) -> ok | state_error().
state_unsubscribe(_Key) -> ?NOT_LOADED.
%% 0 means unbounded.
-spec state_limits(non_neg_integer(), non_neg_integer()) -> ok | badarg().
state_limits(_MaxEntries, _MaxBytes) -> ?NOT_LOADED.

%%% Channels (beam/channel_nifs.cpp; see py_channel) -----------------------------------

%% MaxBytes 0: unbounded.
-spec channel_new(non_neg_integer()) -> {ok, channel()} | {error, enomem} | badarg().
channel_new(_MaxBytes) -> ?NOT_LOADED.
-spec channel_send(channel(), term()) -> ok | busy | closed | badarg().
channel_send(_Ch, _Term) -> ?NOT_LOADED.
%% busy: the caller gets {py_channel_room, Tag} once there may be room.
-spec channel_send_wait(channel(), term(), term()) -> ok | busy | closed | badarg().
channel_send_wait(_Ch, _Term, _Tag) -> ?NOT_LOADED.
%% waiting: the caller gets {py_channel_ready, Tag} once a message may be there.
-spec channel_receive(channel(), term()) -> {ok, term()} | waiting | closed | badarg().
channel_receive(_Ch, _Tag) -> ?NOT_LOADED.
-spec channel_try_receive(channel()) -> {ok, term()} | empty | closed | badarg().
channel_try_receive(_Ch) -> ?NOT_LOADED.
-spec channel_cancel(channel(), term()) -> ok | badarg().
channel_cancel(_Ch, _Tag) -> ?NOT_LOADED.
-spec channel_close(channel()) -> ok | badarg().
channel_close(_Ch) -> ?NOT_LOADED.
-spec channel_info(channel()) -> map() | badarg().
channel_info(_Ch) -> ?NOT_LOADED.
-spec is_channel(term()) -> boolean().
is_channel(_Term) -> ?NOT_LOADED.

%%% Python calling Erlang (beam/erlang_call_nifs.cpp; see py_callback) -----------------

-spec set_callback_handler(pid() | undefined, non_neg_integer()) -> ok | badarg().
set_callback_handler(_PidOrUndefined, _TimeoutMs) -> ?NOT_LOADED.
%% The names Python may call.
-spec callback_names([binary()]) -> ok | badarg().
callback_names(_Names) -> ?NOT_LOADED.
-spec callback_reply(non_neg_integer(), term()) -> ok | not_waiting | badarg().
callback_reply(_Token, _Result) -> ?NOT_LOADED.

%%% Descriptors (beam/fd_nifs.cpp) ------------------------------------------------------

-spec dup_fd(non_neg_integer()) -> {ok, non_neg_integer()} | {error, term()}.
dup_fd(_Fd) -> ?NOT_LOADED.
-spec handoff_fd(non_neg_integer()) -> {ok, non_neg_integer()} | {error, term()}.
handoff_fd(_Fd) -> ?NOT_LOADED.
-spec close_fd(non_neg_integer()) -> ok | {error, term()}.
close_fd(_Fd) -> ?NOT_LOADED.

%%% Settings every context applies (beam/venv_nifs.cpp, beam/logging_nifs.cpp) ---------

%% The virtual environment every context applies before its next request (py_venv
%% checks the paths).
-spec set_venv(binary() | undefined, [binary()]) -> ok | badarg().
set_venv(_Path, _SiteDirs) -> ?NOT_LOADED.
-spec venv() -> undefined | {binary(), [binary()]}.
venv() -> ?NOT_LOADED.
%% Where Python's logging records go, and the level below which they are not sent.
-spec set_log_sink(pid() | undefined, integer()) -> ok | badarg().
set_log_sink(_Pid, _Level) -> ?NOT_LOADED.

%%% Only in fuzz builds (cmake -DEPY_FUZZ=ON, see scripts/fuzz.sh) ---------------------

-spec fuzz_convert(term()) -> term().
fuzz_convert(_LibFuzzerArgs) -> ?NOT_LOADED.
