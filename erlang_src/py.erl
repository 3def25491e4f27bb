%% @doc Run Python from Erlang: calls, evals, execs, asynchronous calls and casts.
%%
%% A request goes to an explicit context (a pid), to a pool (an atom: one of its contexts,
%% chosen once per process and then kept), or, with neither, to the pool registered for
%% its module (py:register_pool/2) or the default pool.
%%
%% Every call path takes a timeout; the default for all of them is the application's
%% default_timeout (30000 ms, see default_timeout/0). A timed-out request is interrupted
%% in Python and leaves no late reply behind.
%%
%% Results: {ok, Value} | {error, {ExceptionClass, Message}} | {error, Reason} with
%% Reason one of timeout, overloaded, shutting_down, interrupted, {context_died, R},
%% {no_context, Ctx}, {no_pool, Pool}, {badarg, What}.
-module(py).

%% Calls
-export([call/3]).
-export([call/4]).
-export([call/5]).
-export([call/6]).
-export([eval/1]).
-export([eval/2]).
-export([eval/3]).
-export([eval/4]).
-export([exec/1]).
-export([exec/2]).
-export([exec/3]).

%% Asynchronous calls
-export([spawn_call/3]).
-export([spawn_call/4]).
-export([spawn_call/5]).
-export([await/1]).
-export([await/2]).
-export([cast/3]).
-export([cast/4]).
-export([cast/5]).

%% Contexts and pools
-export([context/0]).
-export([context/1]).
-export([start_contexts/0]).
-export([register_pool/2]).
-export([unregister_pool/1]).
-export([interrupt/1]).

%% Python calling Erlang
-export([register_function/2]).
-export([register_function/3]).
-export([unregister_function/1]).

%% Shared state
-export([state_store/2]).
-export([state_fetch/1]).
-export([state_incr/1]).
-export([state_incr/2]).
-export([state_decr/1]).
-export([state_decr/2]).
-export([state_keys/0]).
-export([state_remove/1]).
-export([state_clear/0]).
-export([state_cas/3]).
-export([state_subscribe/1]).
-export([state_unsubscribe/1]).

%% Descriptors
-export([dup_fd/1]).

%% Operating
-export([stats/0]).
-export([configure_logging/1]).

%% Virtual environments
-export([ensure_venv/2]).
-export([ensure_venv/3]).
-export([activate_venv/1]).
-export([deactivate_venv/0]).
-export([venv_info/0]).

%% About the runtime
-export([execution_mode/0]).
-export([sandbox_info/0]).
-export([subinterp_supported/0]).
-export([version/0]).
-export([default_timeout/0]).

-type name() :: atom() | binary().
-type ctx() :: pid().
-type target() :: ctx() | py_context_router:pool().

%%% ------------------------------------------------------------------------------------
%%% Calls
%%% ------------------------------------------------------------------------------------

%% @doc Module:Function(*Args), on the context of the pool that serves Module.
-spec call(name(), name(), list()) -> py_context:result().
call(Module, Function, Args) ->
    call_in(registered(Module, Function), Module, Function, Args, #{}, default_timeout()).

%% @doc call(Module, Function, Args, Kwargs), or call(CtxOrPool, Module, Function, Args).
-spec call(name() | target(), name(), name() | list(), list() | map()) -> py_context:result().
call(Module, Function, Args, Kwargs) when is_map(Kwargs) ->
    call_in(registered(Module, Function), Module, Function, Args, Kwargs, default_timeout());
call(Target, Module, Function, Args) ->
    call_in(Target, Module, Function, Args, #{}, default_timeout()).

%% @doc call(Module, Function, Args, Kwargs, Timeout), or
%% call(CtxOrPool, Module, Function, Args, Kwargs).
-spec call(name() | target(), name(), name() | list(), list() | map(), map() | timeout()) ->
          py_context:result().
call(Module, Function, Args, Kwargs, Timeout) when is_map(Kwargs) ->
    call_in(registered(Module, Function), Module, Function, Args, Kwargs, Timeout);
call(Target, Module, Function, Args, Kwargs) ->
    call_in(Target, Module, Function, Args, Kwargs, default_timeout()).

%% @doc Module:Function(*Args, **Kwargs) on CtxOrPool, waiting at most Timeout.
-spec call(target(), name(), name(), list(), map(), timeout()) -> py_context:result().
call(Target, Module, Function, Args, Kwargs, Timeout) ->
    call_in(Target, Module, Function, Args, Kwargs, Timeout).

call_in(Target, Module, Function, Args, Kwargs, Timeout) ->
    on(Target, fun(Ctx) -> py_request:call(Ctx, Module, Function, Args, Kwargs, Timeout) end).

%% @doc Evaluates a Python expression in the caller's context.
-spec eval(unicode:chardata()) -> py_context:result().
eval(Code) ->
    on(default, fun(Ctx) -> py_request:eval(Ctx, Code, #{}, default_timeout()) end).

%% @doc eval(Code, Locals), or eval(CtxOrPool, Code).
-spec eval(unicode:chardata() | target(), map() | unicode:chardata()) -> py_context:result().
eval(Code, Locals) when is_map(Locals) ->
    on(default, fun(Ctx) -> py_request:eval(Ctx, Code, Locals, default_timeout()) end);
eval(Target, Code) when is_pid(Target); is_atom(Target) ->
    on(Target, fun(Ctx) -> py_request:eval(Ctx, Code, #{}, default_timeout()) end);
eval(_Code, Locals) ->
    {error, {badarg, Locals}}.

%% @doc Evaluates Code with Locals on CtxOrPool.
-spec eval(target(), unicode:chardata(), map()) -> py_context:result().
eval(Target, Code, Locals) ->
    eval(Target, Code, Locals, default_timeout()).

-spec eval(target(), unicode:chardata(), map(), timeout()) -> py_context:result().
eval(_Target, _Code, Locals, _Timeout) when not is_map(Locals) ->
    {error, {badarg, Locals}};
eval(Target, Code, Locals, Timeout) ->
    on(Target, fun(Ctx) -> py_request:eval(Ctx, Code, Locals, Timeout) end).

%% @doc Executes Python statements in the caller's context.
-spec exec(unicode:chardata()) -> ok | {error, term()}.
exec(Code) ->
    on(default, fun(Ctx) -> py_request:exec(Ctx, Code, default_timeout()) end).

-spec exec(target(), unicode:chardata()) -> ok | {error, term()}.
exec(Target, Code) ->
    exec(Target, Code, default_timeout()).

-spec exec(target(), unicode:chardata(), timeout()) -> ok | {error, term()}.
exec(Target, Code, Timeout) ->
    on(Target, fun(Ctx) -> py_request:exec(Ctx, Code, Timeout) end).

%%% ------------------------------------------------------------------------------------
%%% Asynchronous calls
%%% ------------------------------------------------------------------------------------

%% @doc Starts a call and returns at once; py:await/1,2 (or a receive of
%% {py_result, Ref, Result}) gets its result.
-spec spawn_call(name(), name(), list()) -> reference().
spawn_call(Module, Function, Args) ->
    spawn_in(registered(Module, Function), Module, Function, Args, #{}).

%% @doc spawn_call(Module, Function, Args, Kwargs), or spawn_call(CtxOrPool, M, F, Args).
-spec spawn_call(name() | target(), name(), name() | list(), list() | map()) -> reference().
spawn_call(Module, Function, Args, Kwargs) when is_map(Kwargs) ->
    spawn_in(registered(Module, Function), Module, Function, Args, Kwargs);
spawn_call(Target, Module, Function, Args) ->
    spawn_in(Target, Module, Function, Args, #{}).

-spec spawn_call(target(), name(), name(), list(), map()) -> reference().
spawn_call(Target, Module, Function, Args, Kwargs) ->
    spawn_in(Target, Module, Function, Args, Kwargs).

spawn_in(Target, Module, Function, Args, Kwargs) ->
    Ref = make_ref(),
    Submitted = on(Target, fun(Ctx) ->
                                   py_request:submit_call(Ctx, Ref, Module, Function, Args, Kwargs)
                           end),
    case Submitted of
        ok -> Ref;
        Error -> self() ! {py_result, Ref, Error}, Ref
    end.

%% @doc The result of a spawn_call, waiting at most the default timeout.
-spec await(reference()) -> py_context:result().
await(Ref) ->
    await(Ref, default_timeout()).

%% @doc The result of a spawn_call, or {error, timeout}; a timed-out call is cancelled
%% and its late reply never lingers in the caller's mailbox.
-spec await(reference(), timeout()) -> py_context:result().
await(Ref, Timeout) when is_reference(Ref) ->
    py_request:await(Ref, Timeout);
await(Ref, _) ->
    {error, {badarg, Ref}}.

%% @doc Fire and forget: returns ok once the call is queued.
-spec cast(name(), name(), list()) -> ok | {error, term()}.
cast(Module, Function, Args) ->
    cast_in(registered(Module, Function), Module, Function, Args, #{}).

%% @doc cast(Module, Function, Args, Kwargs), or cast(CtxOrPool, Module, Function, Args).
-spec cast(name() | target(), name(), name() | list(), list() | map()) -> ok | {error, term()}.
cast(Module, Function, Args, Kwargs) when is_map(Kwargs) ->
    cast_in(registered(Module, Function), Module, Function, Args, Kwargs);
cast(Target, Module, Function, Args) ->
    cast_in(Target, Module, Function, Args, #{}).

-spec cast(target(), name(), name(), list(), map()) -> ok | {error, term()}.
cast(Target, Module, Function, Args, Kwargs) ->
    cast_in(Target, Module, Function, Args, Kwargs).

cast_in(Target, Module, Function, Args, Kwargs) ->
    on(Target, fun(Ctx) -> py_request:cast(Ctx, Module, Function, Args, Kwargs) end).

%%% ------------------------------------------------------------------------------------
%%% Contexts and pools
%%% ------------------------------------------------------------------------------------

%% @doc The calling process's context.
-spec context() -> ctx() | {error, term()}.
context() ->
    py_context_router:get_context().

%% @doc context(N): the N-th context of the default pool (1-based); context(Pool): the
%% calling process's context in Pool.
-spec context(pos_integer() | py_context_router:pool()) -> ctx() | {error, term()}.
context(N) ->
    py_context_router:get_context(N).

%% @doc Starts the default pool if needed; returns its contexts.
-spec start_contexts() -> {ok, [ctx()]} | {error, term()}.
start_contexts() ->
    py_context_router:start().

%% @doc Every call of Module (or of {Module, Function}) made without a context or pool
%% goes to Pool from now on. A function entry beats a module entry.
-spec register_pool(py_context_router:pool(), py_context_router:registration()) -> ok | {error, term()}.
register_pool(Pool, What) ->
    py_context_router:register_pool(Pool, What).

-spec unregister_pool(py_context_router:registration()) -> ok | {error, term()}.
unregister_pool(What) ->
    py_context_router:unregister_pool(What).

%% @doc Raises KeyboardInterrupt in whatever Ctx runs now; that request returns
%% {error, interrupted} and the context stays usable. {error, not_running} if it was idle.
-spec interrupt(ctx()) -> ok | {error, term()}.
interrupt(Ctx) when is_pid(Ctx) ->
    case py_nif:interrupt(Ctx) of
        true -> ok;
        false -> {error, not_running};
        Error -> Error
    end;
interrupt(Ctx) ->
    {error, {no_context, Ctx}}.

%%% ------------------------------------------------------------------------------------
%%% Python calling Erlang
%%% ------------------------------------------------------------------------------------

%% @doc Lets Python call Fun as erlang.Name(Args...) (also `from erlang import Name` and
%% erlang.call("Name", Args...)). Fun gets the arguments as one list. It runs in an Erlang
%% process of its own, bound to the calling context, so it may call back into Python.
-spec register_function(atom() | binary(), fun((list()) -> term())) -> ok | {error, term()}.
register_function(Name, Fun) when is_function(Fun, 1) ->
    case function_name(Name) of
        {ok, Bin} -> py_callback:register_function(Bin, Fun);
        error -> {error, {badarg, Name}}
    end;
register_function(_Name, Fun) ->
    {error, {badarg, Fun}}.

%% @doc As register_function/2, calling Module:Function(ArgsList).
-spec register_function(atom() | binary(), module(), atom()) -> ok | {error, term()}.
register_function(Name, Module, Function) when is_atom(Module), is_atom(Function) ->
    case function_name(Name) of
        {ok, Bin} -> py_callback:register_function(Bin, {Module, Function});
        error -> {error, {badarg, Name}}
    end;
register_function(_Name, Module, Function) ->
    {error, {badarg, {Module, Function}}}.

-spec unregister_function(atom() | binary()) -> ok | {error, term()}.
unregister_function(Name) ->
    case function_name(Name) of
        {ok, Bin} -> py_callback:unregister_function(Bin);
        error -> {error, {badarg, Name}}
    end.

function_name(Name) when is_atom(Name) -> {ok, atom_to_binary(Name, utf8)};
function_name(Name) when is_binary(Name), byte_size(Name) > 0 -> {ok, Name};
function_name(_) -> error.

%%% ------------------------------------------------------------------------------------
%%% Shared state: one store per node, shared by every context and by Erlang. Keys are
%%% binaries or atoms (the atom hits and <<"hits">> are the same key); values are any
%%% term and come back exactly. Every operation runs in the calling process: no message.
%%% ------------------------------------------------------------------------------------

-type state_key() :: binary() | atom().

%% @doc Stores Value under Key. {error, full} beyond max_state_entries/max_state_bytes.
-spec state_store(state_key(), term()) -> ok | {error, badarg | full}.
state_store(Key, Value) ->
    state_result(py_nif:state_store(Key, Value)).

-spec state_fetch(state_key()) -> {ok, term()} | {error, not_found | badarg}.
state_fetch(Key) ->
    state_result(py_nif:state_fetch(Key)).

%% @doc Atomically adds 1 (or N) to an integer value (a missing key counts as 0) and
%% returns the new value. {error, not_integer} leaves a non-integer value alone.
-spec state_incr(state_key()) -> integer() | {error, term()}.
state_incr(Key) ->
    state_incr(Key, 1).

-spec state_incr(state_key(), integer()) -> integer() | {error, term()}.
state_incr(Key, N) when is_integer(N) ->
    state_result(py_nif:state_add(Key, N));
state_incr(_Key, N) ->
    {error, {badarg, N}}.

-spec state_decr(state_key()) -> integer() | {error, term()}.
state_decr(Key) ->
    state_decr(Key, 1).

-spec state_decr(state_key(), integer()) -> integer() | {error, term()}.
state_decr(Key, N) when is_integer(N) ->
    state_result(py_nif:state_add(Key, -N));
state_decr(_Key, N) ->
    {error, {badarg, N}}.

-spec state_keys() -> [binary()].
state_keys() ->
    py_nif:state_keys().

-spec state_remove(state_key()) -> ok | {error, badarg}.
state_remove(Key) ->
    state_result(py_nif:state_remove(Key)).

-spec state_clear() -> ok.
state_clear() ->
    py_nif:state_clear().

%% @doc Compare-and-set: stores New if Key holds Expected (none also matches an absent
%% key) and returns whether it did.
-spec state_cas(state_key(), term(), term()) -> boolean() | {error, term()}.
state_cas(Key, Expected, New) ->
    state_result(py_nif:state_cas(Key, Expected, New)).

%% @doc The calling process receives {py_state, KeyBinary, {set, Value} | deleted} on
%% every change of Key, made anywhere, until it unsubscribes or dies.
-spec state_subscribe(state_key()) -> ok | {error, badarg}.
state_subscribe(Key) ->
    state_result(py_nif:state_subscribe(Key)).

-spec state_unsubscribe(state_key()) -> ok | {error, badarg}.
state_unsubscribe(Key) ->
    state_result(py_nif:state_unsubscribe(Key)).

%% The NIF names the argument it refuses ({badarg, key}); this API says badarg.
state_result({error, {badarg, _}}) -> {error, badarg};
state_result(Result) -> Result.

%%% ------------------------------------------------------------------------------------
%%% Descriptors
%%% ------------------------------------------------------------------------------------

%% @doc A duplicate of Fd (close-on-exec) for Python, so that Erlang may close its own
%% socket while Python keeps its copy: {ok, Fd} = inet:getfd(Sock), {ok, Dup} =
%% py:dup_fd(Fd). In Python, socket.socket(fileno=Dup) owns it; handed to
%% py_reactor_context:handoff/2, it is taken over as is (not duplicated again).
-spec dup_fd(non_neg_integer()) -> {ok, non_neg_integer()} | {error, term()}.
dup_fd(Fd) when is_integer(Fd), Fd >= 0 ->
    py_nif:dup_fd(Fd);
dup_fd(Fd) ->
    {error, {badarg, Fd}}.

%%% ------------------------------------------------------------------------------------
%%% Operating
%%% ------------------------------------------------------------------------------------

%% @doc Statistics per pool and context: #{Pool => [ContextStats]}, with contexts started
%% by hand (py_context:start_link/2,3) under `standalone`. ContextStats: pid, index, mode,
%% os_thread_id, queue_depth, high_water, max_pending, served, errors, timeouts, busy_us.
%% Cheap: no message is sent and no context is disturbed.
-spec stats() -> #{atom() => [map()]}.
stats() ->
    Pools = [{P, lists:zip(lists:seq(1, py_context_router:num_contexts(P)),
                          py_context_router:contexts(P))} || P <- py_context_router:pools()],
    InPools = [Ctx || {_, Members} <- Pools, {_, Ctx} <- Members],
    Standalone = [C || C <- py_nif:context_pids(), not lists:member(C, InPools)],
    maps:from_list([{P, [info(C, I) || {I, C} <- Members]} || {P, Members} <- Pools] ++
                   [{standalone, [info(C, undefined) || C <- Standalone]}]).

info(Ctx, Index) ->
    case py_nif:context_info(Ctx) of
        Map when is_map(Map) -> Map#{pid => Ctx, index => Index};
        {error, _} -> #{pid => Ctx, index => Index, running => false}
    end.

%% @doc How Python's `logging` reaches Erlang's logger: #{level => debug | info | warning
%% | error | critical | none}. Records at or above the level are logged with domain
%% [python] and the record's file, line, logger name and function as metadata.
-spec configure_logging(map()) -> ok | {error, term()}.
configure_logging(Opts) ->
    py_logger:configure(Opts).

%%% ------------------------------------------------------------------------------------
%%% Virtual environments
%%% ------------------------------------------------------------------------------------

%% @doc Creates the venv at Path if it is missing (with the embedded Python), installs
%% Requirements (a requirements file) into it with pip when the venv is new or the file
%% changed since the last install, and activates it.
-spec ensure_venv(file:name_all(), file:name_all()) -> ok | {error, term()}.
ensure_venv(Path, Requirements) ->
    py_venv:ensure(Path, Requirements).

%% @doc As ensure_venv/2, with options: {installer, pip | uv}, force (recreate the venv
%% and reinstall), {timeout, Ms} for each step (default 600000).
-spec ensure_venv(file:name_all(), file:name_all(), [py_venv:option()]) -> ok | {error, term()}.
ensure_venv(Path, Requirements, Opts) ->
    py_venv:ensure(Path, Requirements, Opts).

%% @doc Every context imports from the venv at Path (made for the embedded Python's
%% version) for every request that starts after this returns.
-spec activate_venv(file:name_all()) -> ok | {error, term()}.
activate_venv(Path) ->
    py_venv:activate(Path).

%% @doc Takes the active venv back (its modules are forgotten); ok if none is active.
-spec deactivate_venv() -> ok.
deactivate_venv() ->
    py_venv:deactivate().

%% @doc {ok, #{<<"active">> := false}} or {ok, #{<<"active">> := true, <<"venv_path">>,
%% <<"site_packages">>, <<"python_version">>}}.
-spec venv_info() -> {ok, map()}.
venv_info() ->
    py_venv:info().

%%% ------------------------------------------------------------------------------------
%%% About the runtime
%%% ------------------------------------------------------------------------------------

%% @doc subinterp (OWN_GIL subinterpreters, 3.12+), multi_executor (one shared GIL) or
%% free_threaded (no GIL): how the default pool's contexts run.
-spec execution_mode() -> subinterp | multi_executor | free_threaded | {error, term()}.
execution_mode() ->
    case py_context:resolve_mode(application:get_env(erlang_python, context_mode, auto)) of
        {ok, Mode} -> Mode;
        Error -> Error
    end.

%% @doc The sandbox every interpreter runs in: #{enabled => true, blocked => [Operation]}.
%% Python code cannot fork or exec the VM's process (subprocess, os.system, os.fork,
%% os.exec*, ...), signal it, install signal handlers, or end it (os._exit, os.abort):
%% each raises RuntimeError ("fork() blocked by sandbox: ..." for process creation).
%% It holds in every context and mode and cannot be lifted from Python. It is not a
%% security boundary: native code (ctypes, C extensions) can still do all of that.
-spec sandbox_info() -> #{enabled := boolean(), blocked := [binary()]}.
sandbox_info() ->
    #{sandbox := Enabled, sandbox_blocked := Blocked} = py_nif:engine_info(),
    #{enabled => Enabled, blocked => Blocked}.

%% @doc True only where contexts really run in OWN_GIL subinterpreters (probed at load).
-spec subinterp_supported() -> boolean().
subinterp_supported() ->
    maps:get(subinterp_supported, py_nif:engine_info()).

%% @doc The embedded Python's version, e.g. <<"3.13.0">>.
-spec version() -> binary().
version() ->
    maps:get(python_version, py_nif:engine_info()).

%% @doc The timeout (ms) of every call path that is given none: the application's
%% default_timeout, 30000 unless configured.
-spec default_timeout() -> timeout().
default_timeout() ->
    persistent_term:get({erlang_python, default_timeout}, 30000).

%%% ------------------------------------------------------------------------------------

registered(Module, Function) ->
    py_context_router:pool_for(Module, Function).

on(Target, Fun) ->
    py_context_router:with_context(Target, Fun).
