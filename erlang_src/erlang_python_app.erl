%% @doc The erlang_python application: starts the supervision tree and the default pool.
%% @private
-module(erlang_python_app).
-behaviour(application).

-export([start/2]).
-export([stop/1]).

start(_Type, _Args) ->
    case code:ensure_loaded(py_nif) of
        {module, py_nif} -> start_tree();
        {error, Reason} -> {error, {nif_not_loaded, Reason}}
    end.

start_tree() ->
    persistent_term:put({erlang_python, default_timeout},
                        application:get_env(erlang_python, default_timeout, 30000)),
    ok = py_nif:state_limits(application:get_env(erlang_python, max_state_entries, 0),
                             application:get_env(erlang_python, max_state_bytes, 0)),
    case py_venv:activate_from_env() of
        ok -> start_sup();
        {error, Reason} -> {error, {venv, Reason}}
    end.

start_sup() ->
    {ok, Sup} = erlang_python_sup:start_link(),
    case py_context_router:start() of
        {ok, _Contexts} -> {ok, Sup};
        {error, Reason} -> stop_tree(Sup), {error, Reason}
    end.

stop_tree(Sup) ->
    unlink(Sup),
    exit(Sup, shutdown),
    ok.

stop(_State) ->
    ok.
