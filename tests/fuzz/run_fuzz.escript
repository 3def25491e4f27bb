#!/usr/bin/env escript
%%! +sssdcpu 1024
%% Runs the conversion fuzzer of a fuzz build (cmake -DEPY_FUZZ=ON) for Seconds:
%%   run_fuzz.escript <lib dir> <seconds> <corpus dir>
%% Seeds the corpus with the external format of typical terms, then hands the process to
%% libFuzzer, which exits 0 when the time is up and non-zero (with the input) on a failure.
-mode(compile).

main([LibDir, Seconds, Corpus]) ->
    true = code:add_patha(filename:join([LibDir, "erlang_python", "ebin"])),
    {ok, _} = application:ensure_all_started(erlang_python),
    ok = filelib:ensure_dir(filename:join(Corpus, "x")),
    Seeds = [0, -1, 1 bsl 70, -(1 bsl 200), 3.5, -0.0, ok, none, true, undefined, 'héllo',
             <<>>, <<"text">>, <<"héllo"/utf8>>, <<255, 0, 254>>, {bytes, <<"b">>}, [],
             [1, 2, 3], "chars", [1 | 2], {}, {a, <<"b">>, [c]}, #{}, #{a => 1, <<"a">> => 2},
             #{[1] => {2}, 3.0 => #{}}, self(), make_ref(), [[[[[]]]]],
             lists:seq(1, 300), list_to_tuple(lists:seq(1, 40)), <<1:7>>],
    [ok = file:write_file(filename:join(Corpus, "seed" ++ integer_to_list(I)), term_to_binary(T))
     || {I, T} <- lists:zip(lists:seq(1, length(Seeds)), Seeds)],
    Args = [<<"-max_total_time=", (list_to_binary(Seconds))/binary>>,
            <<"-rss_limit_mb=4096">>, <<"-max_len=65536">>, <<"-print_final_stats=1">>,
            %% A failing input lands next to the corpus, as crash-<hash>.
            <<"-artifact_prefix=", (list_to_binary(filename:dirname(filename:absname(Corpus))))/binary, "/">>,
            list_to_binary(Corpus)],
    Result = py_nif:fuzz_convert(Args),  % libFuzzer ends the process
    io:format("the fuzzer returned ~p~n", [Result]),
    halt(1);
main(_) ->
    io:format("usage: run_fuzz.escript LIB_DIR SECONDS CORPUS_DIR~n"),
    halt(2).
