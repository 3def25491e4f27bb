%% Pools: starting and stopping them, routing to them (explicitly and by registration),
%% overload, interrupt, statistics, logging, and stop/start cycles.
-module(py_pool_SUITE).
-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1, init_per_testcase/2, end_per_testcase/2]).
-export([log/2]).
-export([seed_example/1, pool_api/1, no_pool/1, registration_routes/1,
         function_registration_beats_module/1, sticky_within_pool/1,
         many_callers_exact_results/1, stop_pool_answers_pending/1, overload/1,
         interrupt/1, timeouts_everywhere/1, stats/1, python_logging/1,
         stop_start_cycles/1]).

all() ->
    [seed_example, pool_api, no_pool, registration_routes,
     function_registration_beats_module, sticky_within_pool, many_callers_exact_results,
     stop_pool_answers_pending, overload, interrupt, timeouts_everywhere, stats,
     python_logging, stop_start_cycles].

init_per_suite(Config) ->
    {ok, _} = application:ensure_all_started(erlang_python),
    Dir = ?config(priv_dir, Config),
    %% Modules only the io pool can import: a call that reaches another pool fails.
    ok = file:write_file(filename:join(Dir, "requests.py"),
                         <<"import threading\n"
                           "def get(url):\n"
                           "    return {'url': url, 'thread': threading.get_native_id()}\n">>),
    ok = file:write_file(filename:join(Dir, "mymod.py"),
                         <<"def fetch(url):\n    return 'fetched ' + url\n">>),
    ok = file:write_file(filename:join(Dir, "epy_routing.py"),
                         <<"import threading\n"
                           "def which():\n    return threading.get_native_id()\n"
                           "def special():\n    return which()\n">>),
    [{io_paths, [Dir]} | Config].

end_per_suite(_Config) ->
    application:stop(erlang_python).

init_per_testcase(_Case, Config) ->
    Config.

end_per_testcase(_Case, _Config) ->
    [py_context_router:stop_pool(P) || P <- py_context_router:pools(), P =/= default],
    [py:unregister_pool(R) || R <- [requests, epy_routing, {epy_routing, special}]],
    ok.

start_io(Config, Size) ->
    py_context_router:start_pool(io, Size, worker, #{paths => ?config(io_paths, Config)}).

%% The seed's "Custom Pool Support" example, with stand-ins for requests and mymod.
seed_example(Config) ->
    Url = <<"http://example.com">>,
    {ok, Result} = py:call(math, sqrt, [16]),
    4.0 = Result,
    {ok, _} = start_io(Config, 10),
    {ok, <<"fetched http://example.com">>} = py:call(io, mymod, fetch, [Url]),
    py:register_pool(io, requests),
    py:register_pool(io, {aiohttp, get}),
    {ok, Response} = py:call(requests, get, [Url]),
    #{<<"url">> := Url} = Response.

pool_api(Config) ->
    false = py_context_router:pool_started(io),
    {ok, Contexts} = start_io(Config, 3),
    3 = length(Contexts),
    true = py_context_router:pool_started(io),
    3 = py_context_router:num_contexts(io),
    Contexts = py_context_router:contexts(io),
    %% Starting again returns the running pool.
    {ok, Contexts} = py_context_router:start_pool(io, 5, worker),
    true = lists:member(py_context_router:get_context(io), Contexts),
    true = lists:member(io, py_context_router:pools()),
    [#{mode := _} = py_context:info(C) || C <- Contexts],
    ok = py_context_router:stop_pool(io),
    false = py_context_router:pool_started(io),
    {error, {no_pool, io}} = py_context_router:stop_pool(io),
    {error, {badarg, 0}} = py_context_router:start_pool(io, 0, worker),
    {error, {badarg, bogus}} = py_context_router:start_pool(io, 1, bogus),
    {error, {badarg, "io"}} = py_context_router:start_pool("io", 1, worker),
    {ok, [_]} = py_context_router:start_pool(cpu, 1, auto),
    {ok, [_]} = py_context_router:start_pool(exec_pool, 1, multi_executor).

no_pool(_Config) ->
    {error, {no_pool, nopool}} = py:call(nopool, math, sqrt, [1]),
    {error, {no_pool, nopool}} = py:call(nopool, math, sqrt, [1], #{}),
    {error, {no_pool, nopool}} = py:call(nopool, math, sqrt, [1], #{}, 1000),
    {error, {no_pool, nopool}} = py:await(py:spawn_call(nopool, math, sqrt, [1])),
    {error, {no_pool, nopool}} = py:cast(nopool, math, sqrt, [1]),
    {error, {no_pool, nopool}} = py:eval(nopool, <<"1">>),
    {error, {no_pool, nopool}} = py:exec(nopool, <<"1">>),
    {error, {no_pool, nopool}} = py_context_router:get_context(nopool),
    %% A registration to a pool that is not running fails the same way, never crashes.
    ok = py:register_pool(nopool, requests),
    {error, {no_pool, nopool}} = py:call(requests, get, [<<"x">>]),
    ok = py:unregister_pool(requests),
    {error, {badarg, 42}} = py:register_pool(io, 42),
    {error, {badarg, "io"}} = py:register_pool("io", requests).

registration_routes(Config) ->
    {ok, Io} = start_io(Config, 2),
    IoThreads = threads_of(Io),
    %% Unregistered, requests.get goes to the default pool: there, a subinterpreter
    %% cannot even import it (executors of 3.11 share sys.path, so there it can).
    NotIo = fun(Result) ->
                    case Result of
                        {error, {'ModuleNotFoundError', _}} -> ok;
                        {ok, #{<<"thread">> := T}} -> false = lists:member(T, IoThreads)
                    end
            end,
    NotIo(py:call(requests, get, [<<"u">>])),
    ok = py:register_pool(io, requests),
    InIo = fun({ok, #{<<"thread">> := T}}) -> true = lists:member(T, IoThreads) end,
    InIo(py:call(requests, get, [<<"u">>])),
    InIo(py:call(<<"requests">>, <<"get">>, [<<"u">>])),
    InIo(py:await(py:spawn_call(requests, get, [<<"v">>]))),
    InIo(py:call(requests, get, [], #{url => <<"w">>})),
    ok = py:cast(requests, get, [<<"c">>]),
    ok = py:unregister_pool(requests),
    NotIo(py:call(requests, get, [<<"u">>])).

threads_of(Contexts) ->
    [maps:get(os_thread_id, py_context:info(C)) || C <- Contexts].

function_registration_beats_module(Config) ->
    {ok, Io} = start_io(Config, 1),
    {ok, Special} = py_context_router:start_pool(special, 1, worker,
                                                 #{paths => ?config(io_paths, Config)}),
    [IoThread] = threads_of(Io),
    [SpecialThread] = threads_of(Special),
    ok = py:register_pool(io, epy_routing),
    ok = py:register_pool(special, {epy_routing, special}),
    {ok, IoThread} = py:call(epy_routing, which, []),
    {ok, SpecialThread} = py:call(epy_routing, special, []),
    ok = py:unregister_pool({epy_routing, special}),
    {ok, IoThread} = py:call(epy_routing, special, []).

%% A caller keeps using the context it was given in a pool.
sticky_within_pool(Config) ->
    {ok, _} = start_io(Config, 4),
    Parent = self(),
    [spawn_link(fun() ->
                        Threads = [begin {ok, #{<<"thread">> := T}} =
                                             py:call(io, requests, get, [<<"x">>]), T end
                                   || _ <- lists:seq(1, 20)],
                        Parent ! {self(), lists:usort(Threads)}
                end) || _ <- lists:seq(1, 8)],
    [receive {_, [_OneThread]} -> ok after 10000 -> ct:fail(not_sticky) end
     || _ <- lists:seq(1, 8)].

%% A pool of 10 contexts serves 10,000 calls from 100 processes, every result exact.
many_callers_exact_results(Config) ->
    {ok, _} = start_io(Config, 10),
    Parent = self(),
    Pids = [spawn_link(fun() ->
                               Results = [py:call(io, operator, mul, [P, I]) || I <- lists:seq(1, 100)],
                               Parent ! {self(), P, Results}
                       end) || P <- lists:seq(1, 100)],
    [receive {Pid, P, Results} ->
             Results = [{ok, P * I} || I <- lists:seq(1, 100)]
     after 60000 -> ct:fail(timeout)
     end || {Pid, P} <- lists:zip(Pids, lists:seq(1, 100))],
    Served = lists:sum([maps:get(served, py_context:info(C)) || C <- py_context_router:contexts(io)]),
    true = Served >= 10000.

stop_pool_answers_pending(Config) ->
    {ok, [Ctx]} = start_io(Config, 1),
    Refs = [py:spawn_call(Ctx, time, sleep, [1]) || _ <- lists:seq(1, 5)],
    timer:sleep(50),
    ok = py_context_router:stop_pool(io),
    [{error, shutting_down} = py:await(R, 5000) || R <- Refs],
    {error, {no_pool, io}} = py:call(io, math, sqrt, [1]).

%% A full mailbox refuses at once instead of queueing without limit.
overload(_Config) ->
    {ok, [Ctx]} = py_context_router:start_pool(small, 1, worker, #{max_pending => 5}),
    Blocker = py:spawn_call(Ctx, time, sleep, [0.5]),
    timer:sleep(50),
    Queued = [py:spawn_call(Ctx, math, sqrt, [4]) || _ <- lists:seq(1, 4)],
    {error, overloaded} = py:call(Ctx, math, sqrt, [4]),
    {error, overloaded} = py:await(py:spawn_call(small, math, sqrt, [4])),
    {error, overloaded} = py:cast(Ctx, math, sqrt, [4]),
    {ok, none} = py:await(Blocker),
    [{ok, 2.0} = py:await(R) || R <- Queued],
    {ok, 2.0} = py:call(Ctx, math, sqrt, [4]),
    #{max_pending := 5, high_water := 5} = py_context:info(Ctx).

interrupt(_Config) ->
    {ok, [Ctx]} = py_context_router:start_pool(spin, 1, worker),
    ok = py:exec(Ctx, <<"def spin():\n    while True:\n        pass\n">>),
    {error, not_running} = py:interrupt(Ctx),
    Ref = py:spawn_call(Ctx, '__main__', spin, []),
    wait_running(Ctx, 200),
    ok = py:interrupt(Ctx),
    {error, interrupted} = py:await(Ref, 5000),
    {ok, 2} = py:eval(Ctx, <<"1 + 1">>),
    %% A KeyboardInterrupt the code raises itself is an ordinary exception.
    {error, {'KeyboardInterrupt', _}} = py:exec(Ctx, <<"raise KeyboardInterrupt('mine')">>),
    {error, {no_context, nope}} = py:interrupt(nope).

wait_running(_Ctx, 0) -> ct:fail(never_running);
wait_running(Ctx, N) ->
    case py_context:info(Ctx) of
        #{queue_depth := 1} -> timer:sleep(20);
        _ -> timer:sleep(10), wait_running(Ctx, N - 1)
    end.

%% Every path takes a timeout, and a timeout interrupts Python.
timeouts_everywhere(_Config) ->
    {ok, [Ctx]} = py_context_router:start_pool(slow, 1, worker),
    ok = py:exec(Ctx, <<"def spin():\n    while True:\n        pass\n">>),
    {error, timeout} = py:call(slow, '__main__', spin, [], #{}, 100),
    {error, timeout} = py:call(Ctx, '__main__', spin, [], #{}, 100),
    {error, timeout} = py:eval(Ctx, <<"spin()">>, #{}, 100),
    {error, timeout} = py:exec(Ctx, <<"spin()">>, 100),
    {error, timeout} = py:await(py:spawn_call(Ctx, '__main__', spin, []), 100),
    {error, timeout} = py_context:call(Ctx, '__main__', spin, [], #{}, 100),
    {ok, 3} = py:eval(Ctx, <<"1 + 2">>),
    #{timeouts := 6} = py_context:info(Ctx).

stats(_Config) ->
    {ok, Contexts} = py_context_router:start_pool(stats_pool, 2, worker),
    {ok, Own} = py_context:start_link(77, auto),
    #{default := Default, stats_pool := Pool, standalone := Standalone} = py:stats(),
    true = length(Default) =:= py_context_router:num_contexts(),
    [#{pid := C1, index := 1}, #{pid := C2, index := 2}] = Pool,
    Contexts = [C1, C2],
    [#{pid := Own, index := undefined}] = [S || S = #{pid := P} <- Standalone, P =:= Own],
    [#{mode := _, os_thread_id := _, queue_depth := _, served := _, errors := _,
       timeouts := _, busy_us := _, high_water := _} = S || S <- Pool],
    ok = py_context:stop(Own).

%% Python's logging reaches Erlang's logger with domain [python] and the record's place.
python_logging(_Config) ->
    ok = logger:add_handler(py_pool_SUITE_capture, ?MODULE, #{config => #{pid => self()}}),
    #{level := PrimaryLevel} = logger:get_primary_config(),
    ok = logger:set_primary_config(level, all),  % let info events through Erlang's side
    try
        ok = py:exec(<<"import logging\n"
                       "logging.getLogger('app.part').warning('hello %s', 'world')\n"
                       "logging.getLogger('app.part').info('too low')\n">>),
        receive
            {logged, warning, <<"hello world">>, #{domain := [python], python_logger := <<"app.part">>,
                                                  line := 2, file := <<"<string>">>}} -> ok
        after 5000 -> ct:fail(no_log)
        end,
        ok = py:configure_logging(#{level => info}),
        ok = py:exec(<<"import logging\nlogging.getLogger('app').info('now it shows')\n">>),
        receive {logged, info, <<"now it shows">>, _} -> ok after 5000 -> ct:fail(no_info) end,
        ok = py:exec(<<"import logging\ntry:\n    1/0\nexcept Exception:\n"
                       "    logging.exception('failed')\n">>),
        receive
            {logged, error, Text, _} ->
                nomatch =/= binary:match(Text, <<"ZeroDivisionError">>) orelse ct:fail(Text)
        after 5000 -> ct:fail(no_error)
        end,
        ok = py:configure_logging(#{level => none}),
        ok = py:exec(<<"import logging\nlogging.getLogger('app').critical('hidden')\n">>),
        receive {logged, _, <<"hidden">>, _} -> ct:fail(logged_below_level) after 300 -> ok end,
        {error, {badarg, loud}} = py:configure_logging(#{level => loud})
    after
        py:configure_logging(#{level => warning}),
        logger:set_primary_config(level, PrimaryLevel),
        logger:remove_handler(py_pool_SUITE_capture)
    end.

%% logger handler callback: forwards Python's events to the test process.
log(#{level := Level, msg := {"~ts", [Text]}, meta := Meta}, #{config := #{pid := Pid}}) ->
    case Meta of
        #{domain := [python]} -> Pid ! {logged, Level, Text, Meta};
        _ -> ok
    end;
log(_Event, _Config) ->
    ok.

%% 100 stop/start cycles with calls in flight: every caller answered, no thread and no
%% memory left behind beyond a small bound.
stop_start_cycles(_Config) ->
    Threads0 = epy_ct:threads(),
    Memory0 = erlang:memory(total),
    Rss0 = epy_ct:rss_kb(),
    [begin
         Ref = py:spawn_call(time, sleep, [0.05]),
         ok = application:stop(erlang_python),
         {error, shutting_down} = py:await(Ref, 0),
         {ok, _} = application:ensure_all_started(erlang_python),
         {ok, 4.0} = py:call(math, sqrt, [16])
     end || _ <- lists:seq(1, 100)],
    epy_ct:wait_for_threads(Threads0),
    erlang:garbage_collect(),
    MemoryGrowth = erlang:memory(total) - Memory0,
    RssGrowth = epy_ct:rss_kb() - Rss0,
    ct:log("VM memory growth ~p bytes, RSS growth ~p kB", [MemoryGrowth, RssGrowth]),
    true = MemoryGrowth < 10 * 1024 * 1024,
    true = RssGrowth < 64 * 1024.
