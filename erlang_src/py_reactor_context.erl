%% @doc Sockets accepted in Erlang, served in Python by erlang.reactor protocols.
%%
%% handoff(Fd, Opts) gives a connected socket's descriptor to a reactor context (pool
%% `py_reactor`, started on first use), which serves it with a Protocol class as a task
%% of its event loop. The descriptor Python uses is always its own: one made by
%% py:dup_fd/1 is taken over, any other (inet:getfd/1 of a live socket) is duplicated,
%% so Erlang may close its socket right after the handoff.
%%
%%   {ok, Sock} = gen_tcp:accept(Listen),
%%   {ok, Fd} = inet:getfd(Sock),
%%   {ok, Dup} = py:dup_fd(Fd),
%%   ok = py_reactor_context:handoff(Dup, #{type => tcp}),
%%   gen_tcp:close(Sock).
%%
%% The protocol: `protocol => {Module, Class}` in Opts, else the one start/1 was given,
%% else the application's `reactor_protocol` environment value.
-module(py_reactor_context).

-export([start/0]).
-export([start/1]).
-export([stop/0]).
-export([handoff/2]).
-export([contexts/0]).

-define(POOL, py_reactor).
-define(PROTOCOL_KEY, {?MODULE, protocol}).
-define(NEXT_KEY, {?MODULE, next}).

%% @doc Starts the reactor pool with the defaults (see start/1).
-spec start() -> {ok, [pid()]} | {error, term()}.
start() ->
    start(#{}).

%% @doc Starts the reactor pool. Opts: protocol ({Module, Class}: the default protocol),
%% contexts (default: schedulers), mode (auto). Already started: its contexts.
-spec start(map()) -> {ok, [pid()]} | {error, term()}.
start(Opts) when is_map(Opts) ->
    case maps:find(protocol, Opts) of
        {ok, Protocol} ->
            case valid_protocol(Protocol) of
                true ->
                    persistent_term:put(?PROTOCOL_KEY, Protocol),
                    start_pool(Opts);
                false ->
                    {error, {badarg, {protocol, Protocol}}}
            end;
        error ->
            start_pool(Opts)
    end;
start(Opts) ->
    {error, {badarg, Opts}}.

start_pool(Opts) ->
    Size = maps:get(contexts, Opts, erlang:system_info(schedulers)),
    Mode = maps:get(mode, Opts, auto),
    py_context_router:start_pool(?POOL, Size, Mode).

-spec stop() -> ok | {error, term()}.
stop() ->
    py_context_router:stop_pool(?POOL).

-spec contexts() -> [pid()].
contexts() ->
    py_context_router:contexts(?POOL).

%% @doc Hands the connected socket Fd to a reactor context. Opts: type (tcp or unix: a
%% stream socket), protocol ({Module, Class}). ok once Python owns its descriptor and
%% serves it; {error, Reason} otherwise (Python's descriptor is closed then).
-spec handoff(non_neg_integer(), map()) -> ok | {error, term()}.
handoff(Fd, Opts) when is_integer(Fd), Fd >= 0, is_map(Opts) ->
    case {maps:get(type, Opts, tcp), protocol(Opts)} of
        {Type, _} when Type =/= tcp, Type =/= unix ->
            {error, {badarg, {type, Type}}};
        {_, undefined} ->
            {error, no_protocol};
        {_, {Module, Class}} ->
            case ensure_started() of
                {ok, Contexts} -> adopt(Fd, pick(Contexts), Module, Class);
                {error, _} = Error -> Error
            end;
        {_, Other} ->
            {error, {badarg, {protocol, Other}}}
    end;
handoff(Fd, Opts) when is_map(Opts) ->
    {error, {badarg, Fd}};
handoff(_Fd, Opts) ->
    {error, {badarg, Opts}}.

adopt(Fd, Ctx, Module, Class) ->
    case py_nif:handoff_fd(Fd) of
        {ok, Own} ->
            %% From here on the context owns Own (erlang.reactor._adopt closes it on failure).
            case py:call(Ctx, 'erlang.reactor', '_adopt', [Own, name(Module), name(Class)]) of
                {ok, none} -> ok;
                {error, _} = Error -> Error
            end;
        {error, _} = Error ->
            Error
    end.

protocol(Opts) ->
    case maps:find(protocol, Opts) of
        {ok, P} -> P;
        error -> persistent_term:get(?PROTOCOL_KEY,
                                     application:get_env(erlang_python, reactor_protocol, undefined))
    end.

valid_protocol({M, C}) -> is_name(M) andalso is_name(C);
valid_protocol(_) -> false.

is_name(N) -> is_atom(N) orelse is_binary(N).

name(N) when is_atom(N) -> atom_to_binary(N, utf8);
name(N) -> N.

ensure_started() ->
    case py_context_router:pool_started(?POOL) of
        true -> {ok, contexts()};
        false -> start()
    end.

%% Round robin: connections spread over the reactor's contexts.
pick(Contexts) ->
    Counter = case persistent_term:get(?NEXT_KEY, undefined) of
                  undefined ->
                      C = atomics:new(1, []),
                      persistent_term:put(?NEXT_KEY, C),
                      C;
                  C ->
                      C
              end,
    N = atomics:add_get(Counter, 1, 1),
    lists:nth(N rem length(Contexts) + 1, Contexts).
