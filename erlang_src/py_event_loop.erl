%% @doc asyncio from Erlang: run Python coroutine functions as tasks of a context's event
%% loop.
%%
%% Each context keeps one asyncio loop (an ErlangEventLoop) that runs whenever the context
%% serves no synchronous request, so many tasks run concurrently on one context and keep
%% running after the request that started them. A task request calls Module.Function(Args)
%% in the context: a coroutine (or any awaitable) it returns becomes a task of that loop;
%% a plain function's value is the result at once.
%%
%% The target is a context (a pid), a pool, or nothing: then the request is routed like
%% py:call (the pool registered for Module, else the default pool). Results arrive as
%% {async_result, Ref, {ok, Value} | {error, Reason}}; a task that cannot start (unknown
%% module or function, bad arguments, a full context) reports its error the same way.
-module(py_event_loop).

-include("erlang_python.hrl").

-export([run/3]).
-export([run/4]).
-export([run/5]).
-export([run/6]).
-export([create_task/3]).
-export([create_task/4]).
-export([create_task/5]).
-export([await/1]).
-export([await/2]).
-export([spawn_task/3]).
-export([spawn_task/4]).
-export([spawn_task/5]).

-type name() :: atom() | binary().
-type target() :: pid() | py_context_router:pool().
-type result() :: {ok, term()} | {error, term()}.


%% @doc Runs Module.Function(*Args) as a task and waits for its result (at most the
%% default timeout, py:default_timeout/0).
-spec run(name(), name(), list()) -> result().
run(Module, Function, Args) ->
    await(create_task(Module, Function, Args)).

-spec run(target(), name(), name(), list()) -> result().
run(Target, Module, Function, Args) ->
    await(create_task(Target, Module, Function, Args)).

-spec run(target(), name(), name(), list(), map()) -> result().
run(Target, Module, Function, Args, Kwargs) ->
    await(create_task(Target, Module, Function, Args, Kwargs)).

%% @doc As run/5, waiting at most Timeout; a task still running then is cancelled.
-spec run(target(), name(), name(), list(), map(), timeout()) -> result().
run(_Target, _Module, _Function, _Args, _Kwargs, Timeout) when not ?IS_TIMEOUT(Timeout) ->
    {error, {badarg, Timeout}};
run(Target, Module, Function, Args, Kwargs, Timeout) ->
    await(create_task(Target, Module, Function, Args, Kwargs), Timeout).

%% @doc Starts Module.Function(*Args) as a task and returns a reference at once; the
%% result comes as {async_result, Ref, Result} (await/1,2 receives it).
-spec create_task(name(), name(), list()) -> reference().
create_task(Module, Function, Args) ->
    create_task(py_context_router:pool_for(Module, Function), Module, Function, Args, #{}).

-spec create_task(target(), name(), name(), list()) -> reference().
create_task(Target, Module, Function, Args) ->
    create_task(Target, Module, Function, Args, #{}).

-spec create_task(target(), name(), name(), list(), map()) -> reference().
create_task(Target, Module, Function, Args, Kwargs) ->
    Ref = make_ref(),
    Submitted = py_context_router:with_context(
                  Target, fun(Ctx) -> py_nif:task(Ctx, Ref, Module, Function, Args, Kwargs) end),
    case Submitted of
        ok -> Ref;
        Error -> self() ! {async_result, Ref, Error}, Ref
    end.

%% @doc The result of a task, waiting at most the default timeout.
-spec await(reference()) -> result().
await(Ref) ->
    await(Ref, py:default_timeout()).

%% @doc The result of a task, or {error, timeout}: the task is then cancelled (in Python,
%% asyncio's task.cancel()) and its late result never reaches the caller's mailbox.
-spec await(reference(), timeout()) -> result().
await(Ref, Timeout) when is_reference(Ref), ?IS_TIMEOUT(Timeout) ->
    receive
        {async_result, Ref, Result} -> Result
    after Timeout ->
        give_up(Ref)
    end;
await(Ref, Timeout) when is_reference(Ref) ->
    {error, {badarg, Timeout}};
await(Ref, _Timeout) ->
    {error, {badarg, Ref}}.

%% @doc Starts Module.Function(*Args) as a task nobody waits for: ok once it is queued.
%% A failure is logged (asyncio's exception handler, through Python's logging).
-spec spawn_task(name(), name(), list()) -> ok | {error, term()}.
spawn_task(Module, Function, Args) ->
    spawn_task(py_context_router:pool_for(Module, Function), Module, Function, Args, #{}).

-spec spawn_task(target(), name(), name(), list()) -> ok | {error, term()}.
spawn_task(Target, Module, Function, Args) ->
    spawn_task(Target, Module, Function, Args, #{}).

-spec spawn_task(target(), name(), name(), list(), map()) -> ok | {error, term()}.
spawn_task(Target, Module, Function, Args, Kwargs) ->
    py_context_router:with_context(
      Target, fun(Ctx) -> py_nif:spawn_task(Ctx, Module, Function, Args, Kwargs) end).

%% Either the task is cancelled (nothing will be sent) or its result is already on its
%% way, in which case it is taken from the mailbox.
give_up(Ref) ->
    case py_nif:cancel(all, Ref) of
        cancelled -> {error, timeout};
        not_pending -> receive {async_result, Ref, Result} -> Result
                       after 0 -> {error, timeout}
                       end
    end.
