%% @doc Top supervisor: the logging sink, the Erlang functions Python calls, the router
%% (pool tables) and the pool contexts' supervisor.
%% @private
-module(erlang_python_sup).
-behaviour(supervisor).

-export([start_link/0]).
-export([init/1]).

start_link() ->
    supervisor:start_link({local, ?MODULE}, ?MODULE, []).

init([]) ->
    Children = [#{id => py_logger,
                  start => {py_logger, start_link, []},
                  type => worker},
                #{id => py_callback,
                  start => {py_callback, start_link, []},
                  type => worker},
                #{id => py_context_router,
                  start => {py_context_router, start_link, []},
                  type => worker},
                #{id => py_context_sup,
                  start => {py_context_sup, start_link, []},
                  type => supervisor}],
    {ok, {#{strategy => rest_for_one, intensity => 5, period => 10}, Children}}.
