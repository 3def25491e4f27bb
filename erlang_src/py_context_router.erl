%% @doc Which context serves a caller.
%%
%% The default pool's contexts are kept in a persistent_term tuple, so routing costs no
%% message. A process that calls without naming a context is given one the first time
%% (its scheduler's context, unless another one has less work queued: never blind
%% round-robin, each hop to an idle context costs a thread wake-up) and sticks to it, so
%% that py:exec followed by py:eval from the same process share a namespace.
%% bind_context/1 overrides the choice for the calling process.
%%
%% The router process itself only keeps the pool table up to date as contexts start
%% and restart under py_context_sup.
-module(py_context_router).
-behaviour(gen_server).

%% Pool
-export([start/0]).
-export([start/1]).
-export([num_contexts/0]).
-export([contexts/0]).

%% Routing
-export([get_context/0]).
-export([get_context/1]).
-export([bind_context/1]).
-export([unbind_context/0]).
-export([route/0]).
-export([forget_route/1]).

%% Used by py_context
-export([register_context/3]).

%% Process
-export([start_link/0]).
-export([init/1]).
-export([handle_call/3]).
-export([handle_cast/2]).
-export([handle_info/2]).
-export([terminate/2]).

-define(POOL_KEY(Pool), {?MODULE, Pool}).
-define(BOUND, '$py_context_bound').
-define(STICKY, '$py_context_sticky').

%%% ------------------------------------------------------------------------------------
%%% Pool
%%% ------------------------------------------------------------------------------------

%% @doc Starts the default pool (one context per scheduler, or the application's
%% num_contexts). When it runs already, returns its contexts.
-spec start() -> {ok, [pid()]} | {error, term()}.
start() ->
    start(#{}).

-spec start(#{contexts => pos_integer()}) -> {ok, [pid()]} | {error, term()}.
start(Opts) when is_map(Opts) ->
    case pool(default) of
        {} -> start_pool(default, maps:get(contexts, Opts, default_size()));
        _ -> {ok, contexts()}
    end;
start(Opts) ->
    {error, {badarg, Opts}}.

start_pool(Pool, Size) when is_integer(Size), Size > 0 ->
    Mode = application:get_env(erlang_python, context_mode, auto),
    case py_context:resolve_mode(Mode) of
        {ok, _} -> start_members(Pool, Mode, 1, Size);
        {error, _} = Error -> Error
    end;
start_pool(_Pool, Size) ->
    {error, {badarg, Size}}.

start_members(Pool, _Mode, Index, Size) when Index > Size ->
    {ok, tuple_to_list(pool(Pool))};
start_members(Pool, Mode, Index, Size) ->
    case py_context_sup:start_context(Pool, Index, Mode) of
        {ok, _Pid} -> start_members(Pool, Mode, Index + 1, Size);
        {error, _} = Error -> Error
    end.

default_size() ->
    case application:get_env(erlang_python, num_contexts, default) of
        default -> erlang:system_info(schedulers);
        N -> N
    end.

-spec num_contexts() -> non_neg_integer().
num_contexts() ->
    tuple_size(pool(default)).

-spec contexts() -> [pid()].
contexts() ->
    tuple_to_list(pool(default)).

pool(Pool) ->
    persistent_term:get(?POOL_KEY(Pool), {}).

%%% ------------------------------------------------------------------------------------
%%% Routing
%%% ------------------------------------------------------------------------------------

%% @doc The context the calling process uses when it names none.
-spec get_context() -> pid() | {error, term()}.
get_context() ->
    route().

%% @doc The N-th context of the default pool (1-based).
-spec get_context(pos_integer()) -> pid() | {error, term()}.
get_context(N) when is_integer(N), N > 0 ->
    Pool = pool(default),
    if N =< tuple_size(Pool) -> element(N, Pool);
       tuple_size(Pool) =:= 0 -> {error, not_started};
       true -> {error, {no_context, N}}
    end;
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

%% @doc The calling process's context: bound, else sticky, else chosen now.
-spec route() -> pid() | {error, term()}.
route() ->
    case get(?BOUND) of
        undefined ->
            case get(?STICKY) of
                undefined -> choose();
                Ctx -> Ctx
            end;
        Ctx ->
            Ctx
    end.

choose() ->
    case pool(default) of
        {} ->
            {error, not_started};
        Pool ->
            Preferred = erlang:system_info(scheduler_id) - 1,
            Ctx = py_nif:pick(Pool, Preferred),
            put(?STICKY, Ctx),
            Ctx
    end.

%% @doc Drops the sticky choice if it is Ctx (it stopped); the next call chooses again.
%% Returns true when a new choice is possible (Ctx was not bound explicitly).
-spec forget_route(pid()) -> boolean().
forget_route(Ctx) ->
    case get(?STICKY) of
        Ctx when Ctx =/= undefined ->
            case get(?BOUND) of
                undefined -> erase(?STICKY), true;
                _ -> false
            end;
        _ ->
            false
    end.

%%% ------------------------------------------------------------------------------------
%%% Registration (called by py_context:init/1 of pool members)
%%% ------------------------------------------------------------------------------------

-spec register_context(atom(), pos_integer(), pid()) -> ok.
register_context(Pool, Index, Pid) ->
    gen_server:call(?MODULE, {register, Pool, Index, Pid}, infinity).

start_link() ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

init([]) ->
    %% Trap exits so that terminate/2 clears the pool table when the application stops:
    %% a later start must not find the old, dead contexts.
    process_flag(trap_exit, true),
    {ok, #{}}.

handle_call({register, Pool, Index, Pid}, _From, State) ->
    Old = pool(Pool),
    Size = max(Index, tuple_size(Old)),
    New = list_to_tuple([if I =:= Index -> Pid;
                            I =< tuple_size(Old) -> element(I, Old);
                            true -> undefined
                         end || I <- lists:seq(1, Size)]),
    persistent_term:put(?POOL_KEY(Pool), New),
    {reply, ok, State#{Pool => true}};
handle_call(_Request, _From, State) ->
    {reply, {error, unknown_request}, State}.

handle_cast(_Msg, State) ->
    {noreply, State}.

handle_info(_Info, State) ->
    {noreply, State}.

terminate(_Reason, State) ->
    [persistent_term:erase(?POOL_KEY(Pool)) || Pool <- maps:keys(State)],
    ok.
