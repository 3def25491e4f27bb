%% Macros the application's modules share.

%% A timeout every call path accepts: infinity, or milliseconds that fit `receive ...
%% after` (at most 2^32 - 1; anything larger raises timeout_value there).
-define(IS_TIMEOUT(T), (T =:= infinity orelse (is_integer(T) andalso T >= 0 andalso T =< 16#FFFFFFFF))).
