%% @doc Run Python from Erlang: calls, evals, execs, asynchronous calls and casts.
%%
%% Without an explicit context a request goes to the calling process's context (see
%% py_context_router: chosen once per process, then sticky). Every call path takes a
%% timeout; the default for all of them is the application's default_timeout (30000 ms).
%% A timed-out request is interrupted in Python and leaves no late reply behind.
%%
%% Results: {ok, Value} | {error, {ExceptionClass, Message}} | {error, Reason} with
%% Reason one of timeout, overloaded, shutting_down, interrupted, {context_died, R},
%% {no_context, Ctx}, {badarg, What}.
-module(py).

%% Calls
-export([call/3]).
-export([call/4]).
-export([call/5]).
-export([eval/1]).
-export([eval/2]).
-export([eval/3]).
-export([exec/1]).
-export([exec/2]).

%% Asynchronous calls
-export([spawn_call/3]).
-export([spawn_call/4]).
-export([spawn_call/5]).
-export([await/1]).
-export([await/2]).
-export([cast/3]).
-export([cast/4]).

%% Contexts
-export([context/0]).
-export([context/1]).
-export([start_contexts/0]).

%% About the runtime
-export([execution_mode/0]).
-export([subinterp_supported/0]).
-export([version/0]).
-export([default_timeout/0]).

-type name() :: atom() | binary().
-type ctx() :: pid().

%%% ------------------------------------------------------------------------------------
%%% Calls
%%% ------------------------------------------------------------------------------------

%% @doc Module:Function(*Args).
-spec call(name(), name(), list()) -> py_context:result().
call(Module, Function, Args) ->
    routed(fun(Ctx) -> py_context:call(Ctx, Module, Function, Args, #{}, default_timeout()) end).

%% @doc call(Module, Function, Args, Kwargs) or call(Ctx, Module, Function, Args).
-spec call(name() | ctx(), name(), name() | list(), list() | map()) -> py_context:result().
call(Module, Function, Args, Kwargs) when is_map(Kwargs) ->
    routed(fun(Ctx) -> py_context:call(Ctx, Module, Function, Args, Kwargs, default_timeout()) end);
call(Ctx, Module, Function, Args) when is_pid(Ctx) ->
    py_context:call(Ctx, Module, Function, Args, #{}, default_timeout());
call(_, _, _, Args) ->
    {error, {badarg, Args}}.

%% @doc call(Module, Function, Args, Kwargs, Timeout) or call(Ctx, Module, Function, Args, Kwargs).
-spec call(name() | ctx(), name(), name() | list(), list() | map(), map() | timeout()) ->
          py_context:result().
call(Ctx, Module, Function, Args, Kwargs) when is_pid(Ctx), is_map(Kwargs) ->
    py_context:call(Ctx, Module, Function, Args, Kwargs, default_timeout());
call(Module, Function, Args, Kwargs, Timeout) when is_map(Kwargs) ->
    routed(fun(Ctx) -> py_context:call(Ctx, Module, Function, Args, Kwargs, Timeout) end);
call(_, _, _, Args, _) ->
    {error, {badarg, Args}}.

%% @doc Evaluates a Python expression in the caller's context.
-spec eval(unicode:chardata()) -> py_context:result().
eval(Code) ->
    routed(fun(Ctx) -> py_context:eval(Ctx, Code, #{}, default_timeout()) end).

%% @doc eval(Code, Locals) or eval(Ctx, Code).
-spec eval(unicode:chardata() | ctx(), map() | unicode:chardata()) -> py_context:result().
eval(Ctx, Code) when is_pid(Ctx) ->
    py_context:eval(Ctx, Code, #{}, default_timeout());
eval(Code, Locals) when is_map(Locals) ->
    routed(fun(Ctx) -> py_context:eval(Ctx, Code, Locals, default_timeout()) end);
eval(_, Locals) ->
    {error, {badarg, Locals}}.

%% @doc Evaluates Code with Locals in context Ctx.
-spec eval(ctx(), unicode:chardata(), map()) -> py_context:result().
eval(Ctx, Code, Locals) when is_pid(Ctx), is_map(Locals) ->
    py_context:eval(Ctx, Code, Locals, default_timeout());
eval(Ctx, _, _) when not is_pid(Ctx) ->
    {error, {no_context, Ctx}};
eval(_, _, Locals) ->
    {error, {badarg, Locals}}.

%% @doc Executes Python statements in the caller's context.
-spec exec(unicode:chardata()) -> ok | {error, term()}.
exec(Code) ->
    routed(fun(Ctx) -> py_context:exec(Ctx, Code, default_timeout()) end).

-spec exec(ctx(), unicode:chardata()) -> ok | {error, term()}.
exec(Ctx, Code) when is_pid(Ctx) ->
    py_context:exec(Ctx, Code, default_timeout());
exec(Ctx, _) ->
    {error, {no_context, Ctx}}.

%%% ------------------------------------------------------------------------------------
%%% Asynchronous calls
%%% ------------------------------------------------------------------------------------

%% @doc Starts a call and returns at once; py:await/1,2 (or a receive of
%% {py_result, Ref, Result}) gets its result.
-spec spawn_call(name(), name(), list()) -> reference().
spawn_call(Module, Function, Args) ->
    spawn_routed(Module, Function, Args, #{}).

-spec spawn_call(name() | ctx(), name(), name() | list(), list() | map()) -> reference().
spawn_call(Module, Function, Args, Kwargs) when is_map(Kwargs) ->
    spawn_routed(Module, Function, Args, Kwargs);
spawn_call(Ctx, Module, Function, Args) ->
    spawn_on(Ctx, Module, Function, Args, #{}).

-spec spawn_call(ctx(), name(), name(), list(), map()) -> reference().
spawn_call(Ctx, Module, Function, Args, Kwargs) ->
    spawn_on(Ctx, Module, Function, Args, Kwargs).

spawn_routed(Module, Function, Args, Kwargs) ->
    case py_context_router:route() of
        Ctx when is_pid(Ctx) -> spawn_on(Ctx, Module, Function, Args, Kwargs);
        {error, _} = Error -> already_answered(Error)
    end.

spawn_on(Ctx, Module, Function, Args, Kwargs) ->
    Ref = make_ref(),
    ok = py_context:submit_call(Ctx, Ref, Module, Function, Args, Kwargs),
    Ref.

already_answered(Result) ->
    Ref = make_ref(),
    self() ! {py_result, Ref, Result},
    Ref.

%% @doc The result of a spawn_call, waiting at most the default timeout.
-spec await(reference()) -> py_context:result().
await(Ref) ->
    await(Ref, default_timeout()).

%% @doc The result of a spawn_call, or {error, timeout}; a timed-out call is cancelled
%% and its late reply never lingers in the caller's mailbox.
-spec await(reference(), timeout()) -> py_context:result().
await(Ref, Timeout) when is_reference(Ref) ->
    py_context:await(Ref, Timeout);
await(Ref, _) ->
    {error, {badarg, Ref}}.

%% @doc Fire and forget: returns ok once the call is queued.
-spec cast(name(), name(), list()) -> ok | {error, term()}.
cast(Module, Function, Args) ->
    routed(fun(Ctx) -> py_context:cast(Ctx, Module, Function, Args, #{}) end).

-spec cast(name() | ctx(), name(), name() | list(), list() | map()) -> ok | {error, term()}.
cast(Module, Function, Args, Kwargs) when is_map(Kwargs) ->
    routed(fun(Ctx) -> py_context:cast(Ctx, Module, Function, Args, Kwargs) end);
cast(Ctx, Module, Function, Args) when is_pid(Ctx) ->
    py_context:cast(Ctx, Module, Function, Args, #{});
cast(_, _, _, Args) ->
    {error, {badarg, Args}}.

%%% ------------------------------------------------------------------------------------
%%% Contexts
%%% ------------------------------------------------------------------------------------

%% @doc The calling process's context.
-spec context() -> ctx() | {error, term()}.
context() ->
    py_context_router:get_context().

%% @doc The N-th context of the default pool (1-based).
-spec context(pos_integer()) -> ctx() | {error, term()}.
context(N) ->
    py_context_router:get_context(N).

%% @doc Starts the default pool if needed; returns its contexts.
-spec start_contexts() -> {ok, [ctx()]} | {error, term()}.
start_contexts() ->
    py_context_router:start().

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

%% @doc True only where contexts really run in OWN_GIL subinterpreters (probed at load).
-spec subinterp_supported() -> boolean().
subinterp_supported() ->
    maps:get(subinterp_supported, py_nif:engine_info()).

%% @doc The embedded Python's version, e.g. <<"3.13.0">>.
-spec version() -> binary().
version() ->
    maps:get(python_version, py_nif:engine_info()).

%% @doc The timeout (ms) of every call path that is given none.
-spec default_timeout() -> timeout().
default_timeout() ->
    persistent_term:get({erlang_python, default_timeout}, 30000).

%%% ------------------------------------------------------------------------------------

%% Runs Fun on the caller's context. If that context has gone (its process restarted),
%% the caller chooses again once.
routed(Fun) ->
    case py_context_router:route() of
        Ctx when is_pid(Ctx) ->
            case Fun(Ctx) of
                {error, {no_context, Ctx}} = Error ->
                    case py_context_router:forget_route(Ctx) of
                        true -> retry(Fun, Error);
                        false -> Error
                    end;
                Result ->
                    Result
            end;
        {error, _} = Error ->
            Error
    end.

retry(Fun, Error) ->
    case py_context_router:route() of
        Ctx when is_pid(Ctx) -> Fun(Ctx);
        _ -> Error
    end.
