%% @doc Which context serves a caller: pools, routing, and module-to-pool registrations.
%%
%% A pool is a named group of supervised contexts; `default` starts with the application.
%% Each pool's contexts are kept in a persistent_term tuple, so routing costs no message.
%% A process that calls a pool without naming a context is given one of its contexts the
%% first time (the one paired with its scheduler, unless another has less work queued:
%% never blind round-robin, each hop to an idle context costs a thread wake-up) and
%% sticks to it, so that py:exec followed by py:eval from one process share a namespace.
%% bind_context/1 overrides the choice for the calling process.
%%
%% Registrations send every call of a module, or of one function, to a pool:
%% py:register_pool(io, requests) routes requests.* to pool io; {Module, Function}
%% entries beat module entries.
%%
%% The router process serialises changes (pool starts and stops, contexts registering
%% after a restart, registrations); reads never go through it.
-module(py_context_router).
-behaviour(gen_server).

%% Default pool
-export([start/0]).
-export([start/1]).
-export([num_contexts/0]).
-export([contexts/0]).

%% Named pools
-export([start_pool/3]).
-export([start_pool/4]).
-export([stop_pool/1]).
-export([pool_started/1]).
-export([num_contexts/1]).
-export([contexts/1]).
-export([pools/0]).

%% Routing
-export([get_context/0]).
-export([get_context/1]).
-export([bind_context/1]).
-export([unbind_context/0]).
-export([route/1]).
-export([forget_route/2]).
-export([with_context/2]).
-export([pool_for/2]).

%% Registrations
-export([register_pool/2]).
-export([unregister_pool/1]).

%% Used by py_context
-export([register_context/3]).

%% Process
-export([start_link/0]).
-export([init/1]).
-export([handle_call/3]).
-export([handle_cast/2]).
-export([handle_info/2]).
-export([terminate/2]).

-define(POOL_KEY(Pool), {?MODULE, pool, Pool}).
-define(POOLS_KEY, {?MODULE, pools}).
-define(REGISTRATIONS_KEY, {?MODULE, registrations}).
-define(BOUND, '$py_context_bound').
-define(STICKY(Pool), {'$py_context_sticky', Pool}).

-type pool() :: atom().
-type registration() :: atom() | binary() | {atom() | binary(), atom() | binary()}.
-export_type([pool/0, registration/0]).

%%% ------------------------------------------------------------------------------------
%%% Default pool
%%% ------------------------------------------------------------------------------------

%% @doc Starts the default pool (one context per scheduler, or the application's
%% num_contexts). When it runs already, returns its contexts.
-spec start() -> {ok, [pid()]} | {error, term()}.
start() ->
    start(#{}).

-spec start(#{contexts => pos_integer()}) -> {ok, [pid()]} | {error, term()}.
start(Opts) when is_map(Opts) ->
    Mode = application:get_env(erlang_python, context_mode, auto),
    start_pool(default, maps:get(contexts, Opts, default_size()), Mode);
start(Opts) ->
    {error, {badarg, Opts}}.

default_size() ->
    case application:get_env(erlang_python, num_contexts, default) of
        default -> erlang:system_info(schedulers);
        N -> N
    end.

-spec num_contexts() -> non_neg_integer().
num_contexts() ->
    num_contexts(default).

-spec contexts() -> [pid()].
contexts() ->
    contexts(default).

%%% ------------------------------------------------------------------------------------
%%% Named pools
%%% ------------------------------------------------------------------------------------

%% @doc Starts pool Name with Size contexts of Mode (auto, worker (= auto), subinterp,
%% multi_executor, free_threaded). When the pool runs already, returns its contexts.
-spec start_pool(pool(), pos_integer(), py_context:mode() | worker) -> {ok, [pid()]} | {error, term()}.
start_pool(Name, Size, Mode) ->
    start_pool(Name, Size, Mode, #{}).

%% @doc As start_pool/3; Opts: max_pending (mailbox bound per context), paths.
-spec start_pool(pool(), pos_integer(), py_context:mode() | worker, map()) ->
          {ok, [pid()]} | {error, term()}.
start_pool(Name, Size, Mode, Opts) when is_atom(Name), is_integer(Size), Size > 0, is_map(Opts) ->
    case pool_started(Name) of
        true ->
            {ok, contexts(Name)};
        false ->
            case py_context:resolve_mode(Mode) of
                {ok, _} -> start_members(Name, Mode, Opts, 1, Size);
                {error, _} = Error -> Error
            end
    end;
start_pool(Name, _Size, _Mode, _Opts) when not is_atom(Name) ->
    {error, {badarg, Name}};
start_pool(_Name, Size, _Mode, Opts) when is_map(Opts) ->
    {error, {badarg, Size}};
start_pool(_Name, _Size, _Mode, Opts) ->
    {error, {badarg, Opts}}.

start_members(Pool, _Mode, _Opts, Index, Size) when Index > Size ->
    {ok, contexts(Pool)};
start_members(Pool, Mode, Opts, Index, Size) ->
    case py_context_sup:start_context(Pool, Index, Mode, Opts) of
        {ok, _Pid} ->
            start_members(Pool, Mode, Opts, Index + 1, Size);
        {error, _} = Error ->
            _ = stop_pool(Pool),
            Error
    end.

%% @doc Stops every context of the pool; what they still hold is answered with
%% {error, shutting_down}.
-spec stop_pool(pool()) -> ok | {error, {no_pool, pool()}}.
stop_pool(Name) ->
    case pool_started(Name) of
        true ->
            Size = num_contexts(Name),
            [py_context_sup:stop_context(Name, I) || I <- lists:seq(1, Size)],
            gen_server:call(?MODULE, {forget_pool, Name}, infinity);
        false ->
            {error, {no_pool, Name}}
    end.

-spec pool_started(pool()) -> boolean().
pool_started(Name) ->
    tuple_size(pool(Name)) > 0.

-spec num_contexts(pool()) -> non_neg_integer().
num_contexts(Pool) ->
    tuple_size(pool(Pool)).

-spec contexts(pool()) -> [pid()].
contexts(Pool) ->
    tuple_to_list(pool(Pool)).

%% @doc The pools that run now.
-spec pools() -> [pool()].
pools() ->
    [P || P <- persistent_term:get(?POOLS_KEY, []), pool_started(P)].

pool(Pool) ->
    persistent_term:get(?POOL_KEY(Pool), {}).

%%% ------------------------------------------------------------------------------------
%%% Routing
%%% ------------------------------------------------------------------------------------

%% @doc The context the calling process uses when it names none.
-spec get_context() -> pid() | {error, term()}.
get_context() ->
    route(default).

%% @doc get_context(N): the N-th context of the default pool (1-based).
%% get_context(Pool): the calling process's context in that pool.
-spec get_context(pos_integer() | pool()) -> pid() | {error, term()}.
get_context(N) when is_integer(N), N > 0 ->
    Pool = pool(default),
    if N =< tuple_size(Pool) -> element(N, Pool);
       tuple_size(Pool) =:= 0 -> {error, {no_pool, default}};
       true -> {error, {no_context, N}}
    end;
get_context(Pool) when is_atom(Pool) ->
    route(Pool);
get_context(N) ->
    {error, {badarg, N}}.

-spec bind_context(pid()) -> ok | {error, term()}.
bind_context(Ctx) when is_pid(Ctx) ->
    put(?BOUND, Ctx),
    ok;
bind_context(Ctx) ->
    {error, {badarg, Ctx}}.

-spec unbind_context() -> ok.
unbind_context() ->
    erase(?BOUND),
    ok.

%% @doc The calling process's context in Pool: bound, else sticky, else chosen now.
-spec route(pool()) -> pid() | {error, term()}.
route(Pool) ->
    case get(?BOUND) of
        undefined ->
            case get(?STICKY(Pool)) of
                undefined -> choose(Pool);
                Ctx -> Ctx
            end;
        Ctx ->
            Ctx
    end.

choose(Pool) ->
    case pool(Pool) of
        {} ->
            {error, {no_pool, Pool}};
        Contexts ->
            Preferred = erlang:system_info(scheduler_id) - 1,
            Ctx = py_nif:pick(Contexts, Preferred),
            put(?STICKY(Pool), Ctx),
            Ctx
    end.

%% @doc Drops the caller's sticky choice in Pool if it is Ctx (that context is gone): the
%% next call chooses again. Returns whether a new choice is possible (Ctx was not bound).
-spec forget_route(pool(), pid()) -> boolean().
forget_route(Pool, Ctx) ->
    case {get(?BOUND), get(?STICKY(Pool))} of
        {undefined, Ctx} -> erase(?STICKY(Pool)), true;
        _ -> false
    end.

%% @doc Runs Fun(Ctx) on a context: Ctx itself, or the caller's context in pool Pool. If
%% the caller's context in the pool has gone (its process was replaced), it chooses again.
-spec with_context(pid() | pool(), fun((pid()) -> Result)) -> Result | {error, term()}.
with_context(Ctx, Fun) when is_pid(Ctx) ->
    Fun(Ctx);
with_context(Pool, Fun) when is_atom(Pool) ->
    case route(Pool) of
        Ctx when is_pid(Ctx) ->
            case Fun(Ctx) of
                {error, {no_context, Ctx}} = Error ->
                    case forget_route(Pool, Ctx) of
                        true -> retry(Pool, Fun, Error);
                        false -> Error
                    end;
                Result ->
                    Result
            end;
        {error, _} = Error ->
            Error
    end;
with_context(Other, _Fun) ->
    {error, {no_context, Other}}.

retry(Pool, Fun, Error) ->
    case route(Pool) of
        Ctx when is_pid(Ctx) -> Fun(Ctx);
        _ -> Error
    end.

%% @doc The pool that serves Module:Function (registrations, else default).
-spec pool_for(atom() | binary(), atom() | binary()) -> pool().
pool_for(Module, Function) ->
    case persistent_term:get(?REGISTRATIONS_KEY, #{}) of
        Regs when map_size(Regs) =:= 0 -> default;
        #{{Module, Function} := Pool} -> Pool;
        #{Module := Pool} -> Pool;
        _ -> default
    end.

%%% ------------------------------------------------------------------------------------
%%% Registrations
%%% ------------------------------------------------------------------------------------

%% @doc Routes every call of Module (or of Module:Function) made without a context or
%% pool to Pool.
-spec register_pool(pool(), registration()) -> ok | {error, term()}.
register_pool(Pool, What) when is_atom(Pool) ->
    case keys(What) of
        {ok, Keys} -> gen_server:call(?MODULE, {register_pool, Pool, Keys}, infinity);
        error -> {error, {badarg, What}}
    end;
register_pool(Pool, _What) ->
    {error, {badarg, Pool}}.

-spec unregister_pool(registration()) -> ok | {error, term()}.
unregister_pool(What) ->
    case keys(What) of
        {ok, Keys} -> gen_server:call(?MODULE, {unregister_pool, Keys}, infinity);
        error -> {error, {badarg, What}}
    end.

%% Callers may name modules and functions as atoms or binaries: register both forms.
keys({M, F}) ->
    case {names(M), names(F)} of
        {{ok, Ms}, {ok, Fs}} -> {ok, [{Mx, Fx} || Mx <- Ms, Fx <- Fs]};
        _ -> error
    end;
keys(M) ->
    names(M).

names(A) when is_atom(A) -> {ok, [A, atom_to_binary(A, utf8)]};
names(B) when is_binary(B) ->
    case unicode:characters_to_binary(B) of
        B ->
            try {ok, [B, binary_to_existing_atom(B, utf8)]}
            catch error:badarg -> {ok, [B]}
            end;
        _ -> error
    end;
names(_) -> error.

%%% ------------------------------------------------------------------------------------
%%% Process
%%% ------------------------------------------------------------------------------------

%% @doc Called by a pool member's init: puts its pid at its index of the pool table.
-spec register_context(pool(), pos_integer(), pid()) -> ok.
register_context(Pool, Index, Pid) ->
    gen_server:call(?MODULE, {register_context, Pool, Index, Pid}, infinity).

start_link() ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

init([]) ->
    %% Trap exits so that terminate/2 clears the tables when the application stops: a
    %% later start must not find the old, dead contexts.
    process_flag(trap_exit, true),
    {ok, #{}}.

handle_call({register_context, Pool, Index, Pid}, _From, State) ->
    Old = pool(Pool),
    Size = max(Index, tuple_size(Old)),
    New = list_to_tuple([if I =:= Index -> Pid;
                            I =< tuple_size(Old) -> element(I, Old);
                            true -> undefined
                         end || I <- lists:seq(1, Size)]),
    persistent_term:put(?POOL_KEY(Pool), New),
    Pools = persistent_term:get(?POOLS_KEY, []),
    lists:member(Pool, Pools) orelse persistent_term:put(?POOLS_KEY, [Pool | Pools]),
    {reply, ok, State};
handle_call({forget_pool, Pool}, _From, State) ->
    persistent_term:erase(?POOL_KEY(Pool)),
    persistent_term:put(?POOLS_KEY, persistent_term:get(?POOLS_KEY, []) -- [Pool]),
    {reply, ok, State};
handle_call({register_pool, Pool, Keys}, _From, State) ->
    Regs = persistent_term:get(?REGISTRATIONS_KEY, #{}),
    persistent_term:put(?REGISTRATIONS_KEY, maps:merge(Regs, maps:from_list([{K, Pool} || K <- Keys]))),
    {reply, ok, State};
handle_call({unregister_pool, Keys}, _From, State) ->
    Regs = persistent_term:get(?REGISTRATIONS_KEY, #{}),
    persistent_term:put(?REGISTRATIONS_KEY, maps:without(Keys, Regs)),
    {reply, ok, State};
handle_call(_Request, _From, State) ->
    {reply, {error, unknown_request}, State}.

handle_cast(_Msg, State) ->
    {noreply, State}.

handle_info(_Info, State) ->
    {noreply, State}.

terminate(_Reason, _State) ->
    [persistent_term:erase(?POOL_KEY(P)) || P <- persistent_term:get(?POOLS_KEY, [])],
    persistent_term:erase(?POOLS_KEY),
    persistent_term:erase(?REGISTRATIONS_KEY),
    ok.
