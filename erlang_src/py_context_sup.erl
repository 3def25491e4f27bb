%% @doc Supervises the contexts of the pools: a context whose process dies is replaced by
%% a fresh one with a new interpreter (it registers itself with py_context_router).
%% @private
-module(py_context_sup).
-behaviour(supervisor).

-export([start_link/0]).
-export([start_context/4]).
-export([stop_context/2]).
-export([init/1]).

start_link() ->
    supervisor:start_link({local, ?MODULE}, ?MODULE, []).

-spec start_context(atom(), pos_integer(), py_context:mode() | worker, map()) ->
          {ok, pid()} | {error, term()}.
start_context(Pool, Index, Mode, Opts) ->
    Spec = #{id => {Pool, Index},
             start => {py_context, start_link, [Index, Mode, Opts#{pool => {Pool, Index}}]},
             restart => permanent,
             shutdown => 10000,
             type => worker,
             modules => [py_context]},
    case supervisor:start_child(?MODULE, Spec) of
        {ok, Pid} -> {ok, Pid};
        {error, {already_started, Pid}} -> {ok, Pid};
        {error, already_present} ->
            _ = supervisor:delete_child(?MODULE, {Pool, Index}),
            start_context(Pool, Index, Mode, Opts);
        {error, {Reason, _Child}} -> {error, Reason};
        {error, Reason} -> {error, Reason}
    end.

-spec stop_context(atom(), pos_integer()) -> ok.
stop_context(Pool, Index) ->
    _ = supervisor:terminate_child(?MODULE, {Pool, Index}),
    _ = supervisor:delete_child(?MODULE, {Pool, Index}),
    ok.

init([]) ->
    %% Contexts die when users kill them or Python brings them down; keep replacing them
    %% unless that happens in a tight loop.
    {ok, {#{strategy => one_for_one, intensity => 50, period => 10}, []}}.
