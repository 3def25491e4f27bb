#!/usr/bin/env escript
%% erlang_python benchmark (never run by the tests). Run it with
%%   cmake --build build --target bench      (or: ERL_LIBS=build/lib escript bench/bench.escript)
%% Arguments pick sections by name (see the list printed for an unknown one); none runs the
%% default set (every section except the slow load sections: sched, contended, bigterm).
%% VM flags go in ERL_FLAGS, e.g. ERL_FLAGS="+sbwt very_long".
%%
%% Each bench_*.erl module next to this script holds related sections and exports
%% sections() -> [{Name, Fun, default | extra}]; they are compiled when the bench starts.
-mode(compile).

main(Args) ->
    Dir = filename:dirname(filename:absname(escript:script_name())),
    Sections = load_sections(Dir),
    logger:set_primary_config(level, warning),
    {ok, _} = application:ensure_all_started(erlang_python),
    io:format("erlang_python bench: Python ~s, ~p mode, ~p contexts, ~p schedulers, OTP ~s~n",
              [py:version(), py:execution_mode(), py_context_router:num_contexts(),
               erlang:system_info(schedulers), erlang:system_info(otp_release)]),
    bench_util:warm_up(),
    Wanted = case Args of
                 [] -> [N || {N, _, default} <- Sections];
                 _ -> Args
             end,
    [case lists:keyfind(Name, 1, Sections) of
         {_, Run, _} -> Run();
         false -> io:format("no section ~s (sections: ~s)~n",
                            [Name, lists:join(", ", [N || {N, _, _} <- Sections])])
     end || Name <- Wanted],
    application:stop(erlang_python).

load_sections(Dir) ->
    Modules = [begin
                   {ok, Mod, Bin} = compile:file(F, [binary, report, debug_info]),
                   {module, Mod} = code:load_binary(Mod, F, Bin),
                   Mod
               end || F <- lists:sort(filelib:wildcard(filename:join(Dir, "bench_*.erl")))],
    lists:append([M:sections() || M <- Modules, erlang:function_exported(M, sections, 0)]).
