%% Contexts: modes, isolation, lifecycle, stop with pending work, death, restart,
%% application stop/start.
-module(py_context_SUITE).
-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1]).
-export([modes/1, own_threads/1, paths_option/1, isolated_namespaces/1,
         stop_answers_pending_calls/1, killed_context_answers_at_once/1,
         exit_reason_reaches_callers/1, pool_context_is_replaced/1,
         app_stop_start_cycles/1, multi_executor_pool/1, info/1,
         owner_exit_stops_context/1, stdlib_imports_in_every_context/1,
         vm_exits_cleanly/1, a_new_context_starts_fresh/1]).

all() ->
    [modes, own_threads, paths_option, isolated_namespaces, stop_answers_pending_calls,
     killed_context_answers_at_once, exit_reason_reaches_callers, pool_context_is_replaced,
     app_stop_start_cycles, multi_executor_pool, info, owner_exit_stops_context,
     stdlib_imports_in_every_context, vm_exits_cleanly, a_new_context_starts_fresh].

init_per_suite(Config) ->
    {ok, _} = application:ensure_all_started(erlang_python),
    Config.

end_per_suite(_Config) ->
    application:stop(erlang_python).

modes(_Config) ->
    {ok, Auto} = py_context:start_link(1, auto),
    #{mode := AutoMode} = py_context:info(Auto),
    AutoMode = py:execution_mode(),
    ok = py_context:stop(Auto),
    {ok, Exec} = py_context:start_link(2, multi_executor),
    #{mode := multi_executor} = py_context:info(Exec),
    {ok, 2} = py:eval(Exec, <<"1 + 1">>),
    ok = py_context:stop(Exec),
    process_flag(trap_exit, true),
    case py:subinterp_supported() of
        true ->
            {ok, Sub} = py_context:start_link(3, subinterp),
            #{mode := subinterp} = py_context:info(Sub),
            ok = py_context:stop(Sub);
        false ->
            {error, {mode_unavailable, subinterp, Why}} = py_context:start_link(3, subinterp),
            true = is_binary(Why)
    end,
    {error, {badarg, bogus}} = py_context:start_link(4, bogus),
    {error, {badarg, bad_id}} = py_context:start_link(bad_id, auto),
    process_flag(trap_exit, false),
    epy_ct:flush().

%% Starts a request that runs pure Python forever.
spin(Ctx) ->
    ok = py:exec(Ctx, <<"def spin():\n    while True:\n        pass\n">>),
    py:spawn_call(Ctx, '__main__', spin, []).

own_threads(_Config) ->
    Contexts = py_context_router:contexts(),
    Tids = [maps:get(os_thread_id, py_context:info(C)) || C <- Contexts],
    true = length(lists:usort(Tids)) =:= length(Tids),
    %% Each context runs Python on its own thread, not on a BEAM scheduler.
    {ok, PyTid} = py:eval(hd(Contexts), <<"__import__('threading').get_native_id()">>),
    PyTid = hd(Tids).

paths_option(Config) ->
    Dir = ?config(priv_dir, Config),
    ok = file:write_file(filename:join(Dir, "epy_paths_mod.py"), <<"VALUE = 'found'\n">>),
    {ok, Ctx} = py_context:start_link(5, auto, #{paths => [Dir]}),
    {ok, <<"FOUND">>} = py:call(Ctx, epy_paths_mod, 'VALUE.upper', []),
    {ok, <<"FOUND">>} = py:eval(Ctx, <<"__import__('epy_paths_mod').VALUE.upper()">>),
    {ok, true} = py:eval(Ctx, <<"d in __import__('sys').path">>, #{d => list_to_binary(Dir)}),
    ok = py_context:stop(Ctx).

isolated_namespaces(_Config) ->
    {ok, A} = py_context:start_link(6, auto),
    {ok, B} = py_context:start_link(7, auto),
    ok = py:exec(A, <<"only_in_a = 1">>),
    {ok, 1} = py:eval(A, <<"only_in_a">>),
    {error, {'NameError', _}} = py:eval(B, <<"only_in_a">>),
    ok = py_context:stop(A),
    ok = py_context:stop(B).

%% Stopping a context answers the running request and everything queued behind it.
stop_answers_pending_calls(_Config) ->
    {ok, Ctx} = py_context:start_link(8, auto),
    Running = spin(Ctx),
    Queued = [py:spawn_call(Ctx, math, sqrt, [I]) || I <- lists:seq(1, 50)],
    timer:sleep(50),
    ok = py_context:stop(Ctx),
    [{error, shutting_down} = py:await(R, 5000) || R <- [Running | Queued]],
    {error, {no_context, Ctx}} = py:eval(Ctx, <<"1">>).

%% A killed context answers its callers with {context_died, killed} at once, not after
%% their timeouts.
killed_context_answers_at_once(_Config) ->
    process_flag(trap_exit, true),
    {ok, Ctx} = py_context:start_link(9, auto),
    Refs = [py:spawn_call(Ctx, time, sleep, [10]) | [py:spawn_call(Ctx, math, sqrt, [1])
                                                      || _ <- lists:seq(1, 10)]],
    timer:sleep(50),
    T0 = erlang:monotonic_time(millisecond),
    exit(Ctx, kill),
    [{error, {context_died, killed}} = py:await(R, 60000) || R <- Refs],
    true = erlang:monotonic_time(millisecond) - T0 < 9000,
    receive {'EXIT', Ctx, killed} -> ok end,
    process_flag(trap_exit, false).

exit_reason_reaches_callers(_Config) ->
    process_flag(trap_exit, true),
    {ok, Ctx} = py_context:start_link(10, auto),
    Ref = spin(Ctx),
    timer:sleep(50),
    exit(Ctx, {bad_thing, 42}),
    {error, {context_died, {bad_thing, 42}}} = py:await(Ref, 10000),
    receive {'EXIT', Ctx, {bad_thing, 42}} -> ok end,
    process_flag(trap_exit, false).

pool_context_is_replaced(_Config) ->
    Before = py_context_router:contexts(),
    Parent = self(),
    Caller = spawn_link(fun() -> caller_loop(Parent) end),
    Caller ! eval,
    receive {Caller, {ok, 1}} -> ok end,
    Caller ! which,
    Ctx = receive {Caller, C} -> C end,
    Index = index_of(Ctx, Before),
    exit(Ctx, kill),
    New = wait_for_new_context(Index, Ctx, 200),
    {ok, 2} = py:eval(New, <<"1 + 1">>),
    %% The caller was routed to the dead context: it is routed again, transparently.
    Caller ! eval,
    receive {Caller, {ok, 1}} -> ok after 10000 -> ct:fail(not_rerouted) end,
    Len = length(Before),
    Len = length(py_context_router:contexts()),
    Caller ! stop.

caller_loop(Parent) ->
    receive
        eval -> Parent ! {self(), py:eval(<<"1">>)}, caller_loop(Parent);
        which -> Parent ! {self(), py:context()}, caller_loop(Parent);
        stop -> ok
    end.

index_of(X, List) ->
    length(lists:takewhile(fun(Y) -> Y =/= X end, List)) + 1.

wait_for_new_context(_Index, _Old, 0) ->
    ct:fail(no_replacement);
wait_for_new_context(Index, Old, N) ->
    case py_context_router:get_context(Index) of
        Old -> timer:sleep(50), wait_for_new_context(Index, Old, N - 1);
        New -> New
    end.

%% Stop with a call in flight (its caller gets shutting_down at once), start again, and
%% leave no thread behind.
app_stop_start_cycles(_Config) ->
    ok = application:stop(erlang_python),
    {ok, _} = application:ensure_all_started(erlang_python),
    {ok, 4.0} = py:call(math, sqrt, [16]),
    Threads0 = epy_ct:threads(),
    [begin
         Ref = py:spawn_call(time, sleep, [0.2]),
         timer:sleep(10),
         ok = application:stop(erlang_python),
         {error, shutting_down} = py:await(Ref, 0),
         {ok, _} = application:ensure_all_started(erlang_python),
         {ok, 4.0} = py:call(math, sqrt, [16])
     end || _ <- lists:seq(1, 20)],
    epy_ct:wait_for_threads(Threads0).

multi_executor_pool(_Config) ->
    ok = application:stop(erlang_python),
    ok = application:set_env(erlang_python, context_mode, multi_executor),
    try
        {ok, _} = application:ensure_all_started(erlang_python),
        multi_executor = py:execution_mode(),
        [#{mode := multi_executor} = py_context:info(C) || C <- py_context_router:contexts()],
        Ctx = py:context(1),
        ok = py:exec(Ctx, <<"in_executor = 5">>),
        {ok, 5} = py:eval(Ctx, <<"in_executor">>),
        {error, {'NameError', _}} = py:eval(py:context(2), <<"in_executor">>),
        {ok, 4.0} = py:call(math, sqrt, [16])
    after
        application:stop(erlang_python),
        application:unset_env(erlang_python, context_mode),
        {ok, _} = application:ensure_all_started(erlang_python)
    end.

info(_Config) ->
    Ctx = py:context(1),
    #{served := S0} = py_context:info(Ctx),
    {ok, _} = py:eval(Ctx, <<"1">>),
    {error, _} = py:eval(Ctx, <<"1/0">>),
    #{id := 1, mode := _, os_thread_id := Tid, queue_depth := _, high_water := _,
      max_pending := 16384, served := S1, errors := E, busy_us := _, running := true} =
        py_context:info(Ctx),
    true = Tid > 0,
    true = S1 >= S0 + 2,
    true = E >= 1,
    {error, {no_context, _}} = py_context:info(self()).

owner_exit_stops_context(_Config) ->
    Parent = self(),
    Owner = spawn(fun() ->
                          {ok, Ctx} = py_context:start_link(11, auto),
                          Parent ! {ctx, Ctx},
                          receive stop -> exit(normal_enough) end
                  end),
    Ctx = receive {ctx, C} -> C end,
    {ok, 1} = py:eval(Ctx, <<"1">>),
    Ref = monitor(process, Ctx),
    Owner ! stop,
    receive {'DOWN', Ref, process, Ctx, normal_enough} -> ok after 10000 -> ct:fail(alive) end,
    {error, {no_context, Ctx}} = py:eval(Ctx, <<"1">>).

%% The standard library works in every context, in every mode, through context restarts.
%% (On 3.12 the C modules that refuse subinterpreters are imported by the main
%% interpreter first; otherwise CPython 3.12 aborts later. ctypes stays unavailable in
%% 3.12 subinterpreters.)
stdlib_imports_in_every_context(_Config) ->
    Modules = [<<"json">>, <<"math">>, <<"asyncio">>, <<"socket">>, <<"select">>, <<"ssl">>,
               <<"sqlite3">>, <<"decimal">>, <<"datetime">>, <<"zlib">>, <<"hashlib">>,
               <<"re">>, <<"concurrent.futures">>, <<"ctypes">>],
    {ok, Minor} = py:eval(<<"__import__('sys').version_info.minor">>),
    Modes = case py:subinterp_supported() of
                true -> [subinterp, multi_executor];
                false -> [multi_executor]
            end,
    [begin
         {ok, Ctx} = py_context:start_link(20, Mode),
         [case {Mode, Minor, M, py:eval(Ctx, <<"__import__('importlib').import_module(m).__name__">>,
                                         #{m => M})} of
              {_, _, _, {ok, M}} -> ok;
              {subinterp, 12, <<"ctypes">>, {error, {'ImportError', _}}} -> ok;
              Other -> ct:fail({import_failed, Other})
          end || M <- Modules],
         {ok, <<"1.5">>} = py:eval(Ctx, <<"str(__import__('decimal').Decimal('1.5'))">>),
         {ok, 2026} = py:eval(Ctx, <<"__import__('datetime').date(2026, 1, 1).year">>),
         ok = py_context:stop(Ctx)
     end || Mode <- Modes, _Round <- [1, 2, 3]],
    {ok, 1} = py:eval(<<"1">>).

%% init:stop() and erlang:halt() leave a VM with running contexts (one busy in Python)
%% with the exit status asked for: no abort from a thread or a static destructor.
vm_exits_cleanly(_Config) ->
    LibDir = filename:dirname(code:lib_dir(erlang_python)),
    Start = "{ok, _} = application:ensure_all_started(erlang_python), "
            "{ok, 4.0} = py:call(math, sqrt, [16]), "
            "spawn(fun() -> py:exec(<<\"while True: pass\">>) end), timer:sleep(100), ",
    [begin
         Cmd = "ERL_LIBS=" ++ LibDir ++ " erl -noshell -eval '" ++ Start ++ Stop ++ "' 2>&1; "
               "echo EXIT=$?",
         Out = os:cmd(Cmd),
         case string:find(Out, "EXIT=" ++ integer_to_list(Status)) of
             nomatch -> ct:fail({unclean_exit, Stop, Out});
             _ -> ok
         end
     end || {Stop, Status} <- [{"init:stop().", 0}, {"erlang:halt().", 0},
                               {"erlang:halt(3).", 3}]],
    ok.

%% Whatever a stopped context did (its interpreter may serve the next context: CPython
%% 3.12/3.13 leak memory for every subinterpreter they end), a new context starts fresh.
%% (Executors share one interpreter: only their __main__ is their own.)
a_new_context_starts_fresh(Config) ->
    Dir = ?config(priv_dir, Config),
    ok = file:write_file(filename:join(Dir, "epy_stateful.py"), <<"calls = []\n">>),
    Own = py:execution_mode() =/= multi_executor,
    [begin
         {ok, Old} = py_context:start_link(30, auto),
         ok = py:exec(Old, <<"leftover = 'old'">>),
         Own andalso (ok =:= py:exec(Old, iolist_to_binary(
                                              ["import sys, builtins\n"
                                               "sys.path.insert(0, '", Dir, "')\n"
                                               "import epy_stateful\n"
                                               "epy_stateful.calls.append(1)\n"
                                               "builtins.open = None\n"])))
             orelse not Own orelse ct:fail(exec_failed),
         ok = py_context:stop(Old),
         {ok, New} = py_context:start_link(31, auto),
         {error, {'NameError', _}} = py:eval(New, <<"leftover">>),
         Own andalso begin
             {ok, false} = py:eval(New, <<"d in __import__('sys').path">>,
                                   #{d => list_to_binary(Dir)}),
             {ok, true} = py:eval(New, <<"callable(open)">>),
             {ok, false} = py:eval(New, <<"'epy_stateful' in __import__('sys').modules">>)
         end,
         ok = py_context:stop(New)
     end || _ <- lists:seq(1, 3)],
    ok.
