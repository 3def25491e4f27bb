%% @doc A Python context: one interpreter on one OS thread, owned by this process.
%%
%% The process exists for identity and supervision: its pid is the context handle that
%% callers pass around, and when it dies (however it dies) the interpreter is torn down
%% and every request still pending on it is answered. Requests themselves never pass
%% through the process: they go from the caller straight to the context's mailbox and
%% the reply comes straight back as {py_result, Ref, Result}.
-module(py_context).
-behaviour(gen_server).

-include("erlang_python.hrl").

%% Lifecycle
-export([start_link/2]).
-export([start_link/3]).
-export([stop/1]).
-export([info/1]).

%% Requests on an explicit context
-export([exec/2]).
-export([exec/3]).
-export([eval/2]).
-export([eval/3]).
-export([eval/4]).
-export([call/4]).
-export([call/5]).
-export([call/6]).
-export([cast/5]).

%% Asynchronous requests (used by py:spawn_call/await)
-export([submit_call/6]).
-export([await/2]).

%% Modes
-export([resolve_mode/1]).

%% gen_server
-export([init/1]).
-export([handle_call/3]).
-export([handle_cast/2]).
-export([handle_info/2]).
-export([terminate/2]).

-type context() :: pid().
-type mode() :: auto | subinterp | multi_executor | free_threaded.
-type code() :: unicode:chardata().
-type result() :: {ok, term()} | {error, term()}.
-export_type([context/0, mode/0, result/0]).

-record(state, {id :: non_neg_integer(),
                resource :: reference(),
                mode :: subinterp | multi_executor | free_threaded,
                pool :: undefined | {atom(), pos_integer()}}).

-define(START_TIMEOUT, 60000).
-define(STOP_TIMEOUT, 9000).

%%% ------------------------------------------------------------------------------------
%%% Lifecycle
%%% ------------------------------------------------------------------------------------

%% @doc Starts a context with its own interpreter. Mode: auto (subinterp where OWN_GIL
%% subinterpreters work, else multi_executor), subinterp, multi_executor or free_threaded.
-spec start_link(non_neg_integer(), mode()) -> {ok, context()} | {error, term()}.
start_link(Id, Mode) ->
    start_link(Id, Mode, #{}).

%% @doc As start_link/2. Opts: paths (prepended to sys.path, before the application's
%% paths), max_pending (mailbox bound), answer_wait (adaptive | never | Microseconds: how
%% long a lone caller may wait for its answer inside the NIF; see docs/under_load.md),
%% pool ({Name, Index}: registers the context with py_context_router; used by pools).
-spec start_link(non_neg_integer(), mode(), map()) -> {ok, context()} | {error, term()}.
start_link(Id, Mode, Opts) when is_integer(Id), Id >= 0, is_map(Opts) ->
    gen_server:start_link(?MODULE, {Id, Mode, Opts}, []);
start_link(Id, _Mode, Opts) ->
    {error, {badarg, if is_map(Opts) -> Id; true -> Opts end}}.

-spec stop(context()) -> ok.
stop(Ctx) ->
    gen_server:stop(Ctx).

%% @doc Statistics of one context: mode, os_thread_id, queue_depth, high_water,
%% max_pending, served, errors, busy_us, running.
-spec info(context()) -> map() | {error, term()}.
info(Ctx) ->
    py_nif:context_info(Ctx).

%%% ------------------------------------------------------------------------------------
%%% Requests (the code that waits for answers runs in the caller: see py_request)
%%% ------------------------------------------------------------------------------------

-spec exec(context(), code()) -> ok | {error, term()}.
exec(Ctx, Code) ->
    py_request:exec(Ctx, Code, py:default_timeout()).

-spec exec(context(), code(), timeout()) -> ok | {error, term()}.
exec(Ctx, Code, Timeout) ->
    py_request:exec(Ctx, Code, Timeout).

-spec eval(context(), code()) -> result().
eval(Ctx, Code) ->
    py_request:eval(Ctx, Code, #{}, py:default_timeout()).

-spec eval(context(), code(), map()) -> result().
eval(Ctx, Code, Locals) ->
    py_request:eval(Ctx, Code, Locals, py:default_timeout()).

-spec eval(context(), code(), map(), timeout()) -> result().
eval(Ctx, Code, Locals, Timeout) ->
    py_request:eval(Ctx, Code, Locals, Timeout).

-spec call(context(), atom() | binary(), atom() | binary(), list()) -> result().
call(Ctx, Module, Function, Args) ->
    py_request:call(Ctx, Module, Function, Args, #{}, py:default_timeout()).

-spec call(context(), atom() | binary(), atom() | binary(), list(), map()) -> result().
call(Ctx, Module, Function, Args, Kwargs) ->
    py_request:call(Ctx, Module, Function, Args, Kwargs, py:default_timeout()).

-spec call(context(), atom() | binary(), atom() | binary(), list(), map(), timeout()) -> result().
call(Ctx, Module, Function, Args, Kwargs, Timeout) ->
    py_request:call(Ctx, Module, Function, Args, Kwargs, Timeout).

-spec cast(context(), atom() | binary(), atom() | binary(), list(), map()) -> ok | {error, term()}.
cast(Ctx, Module, Function, Args, Kwargs) ->
    py_request:cast(Ctx, Module, Function, Args, Kwargs).

%% @doc Submits a call whose result arrives later as {py_result, Ref, Result}.
-spec submit_call(context(), reference(), atom() | binary(), atom() | binary(), list(), map()) -> ok.
submit_call(Ctx, Ref, Module, Function, Args, Kwargs) ->
    py_request:submit_call(Ctx, Ref, Module, Function, Args, Kwargs).

%% @doc Waits for the result of a submitted request (see py_request:await/2).
-spec await(reference(), timeout()) -> result() | ok.
await(Ref, Timeout) ->
    py_request:await(Ref, Timeout).

%%% ------------------------------------------------------------------------------------
%%% Modes
%%% ------------------------------------------------------------------------------------

%% @doc The interpreter mode a context gets for a requested mode on this Python build.
-spec resolve_mode(mode() | worker) -> {ok, subinterp | multi_executor | free_threaded} | {error, term()}.
resolve_mode(Mode) ->
    #{subinterp_supported := Sub, free_threaded := Free, python_version := Version} =
        py_nif:engine_info(),
    case Mode of
        M when M =:= auto; M =:= worker ->
            {ok, if Free -> free_threaded; Sub -> subinterp; true -> multi_executor end};
        subinterp when Sub -> {ok, subinterp};
        subinterp ->
            {error, {mode_unavailable, subinterp,
                     <<"OWN_GIL subinterpreters need CPython 3.12+ with a GIL; this is ",
                       Version/binary>>}};
        multi_executor when not Free -> {ok, multi_executor};
        free_threaded when Free -> {ok, free_threaded};
        free_threaded ->
            {error, {mode_unavailable, free_threaded,
                     <<"needs a free-threaded CPython build; this is ", Version/binary>>}};
        multi_executor ->
            {error, {mode_unavailable, multi_executor,
                     <<"this CPython build has no GIL: use free_threaded">>}};
        Other ->
            {error, {badarg, Other}}
    end.

%%% ------------------------------------------------------------------------------------
%%% gen_server
%%% ------------------------------------------------------------------------------------

init({Id, Mode, Opts}) ->
    process_flag(trap_exit, true),
    case resolve_mode(Mode) of
        {ok, Resolved} -> create(Id, Resolved, Opts);
        {error, Reason} -> {stop, Reason}
    end.

create(Id, Mode, Opts) ->
    %% Paths of this context first, then the application's (they apply to every context).
    Paths = [unicode:characters_to_binary(P) || P <- maps:get(paths, Opts, []) ++ default_paths()],
    NifOpts0 = #{paths => Paths,
                 max_pending => maps:get(max_pending, Opts, default_max_pending())},
    NifOpts = maps:merge(NifOpts0, maps:with([answer_wait], Opts)),
    Ref = make_ref(),
    case py_nif:context_create(Ref, Id, Mode, NifOpts) of
        {ok, Resource} ->
            receive
                {py_context_ready, Ref, ok} ->
                    Pool = maps:get(pool, Opts, undefined),
                    register_with_pool(Pool),
                    {ok, #state{id = Id, resource = Resource, mode = Mode, pool = Pool}};
                {py_context_ready, Ref, {error, Message}} ->
                    {stop, {python_start_failed, Message}}
            after ?START_TIMEOUT ->
                {stop, {python_start_failed, timeout}}
            end;
        {error, Reason} ->
            {stop, Reason}
    end.

register_with_pool(undefined) -> ok;
register_with_pool({Pool, Index}) -> py_context_router:register_context(Pool, Index, self()).

default_paths() -> application:get_env(erlang_python, paths, []).
default_max_pending() -> application:get_env(erlang_python, max_pending, 16384).

handle_call(_Request, _From, State) ->
    {reply, {error, unknown_request}, State}.

handle_cast(_Msg, State) ->
    {noreply, State}.

handle_info({'EXIT', _From, Reason}, State) ->
    {stop, Reason, State};
handle_info(_Info, State) ->
    {noreply, State}.

terminate(Reason, #state{resource = Resource}) ->
    %% Answer everything pending, end the interpreter and wait for its thread, so that a
    %% stopped context leaves nothing running behind.
    Ref = make_ref(),
    ok = py_nif:context_stop(Resource, Reason, Ref),
    receive {py_context_stopped, Ref} -> ok
    after ?STOP_TIMEOUT -> ok
    end.
