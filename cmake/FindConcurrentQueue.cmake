# Finds moodycamel's header-only concurrentqueue (Debian: libconcurrentqueue-dev),
# which installs as <concurrentqueue/blockingconcurrentqueue.h> without a CMake package.
#
# Provides: ConcurrentQueue_FOUND, imported target moodycamel::concurrentqueue.

find_path(ConcurrentQueue_INCLUDE_DIR NAMES concurrentqueue/blockingconcurrentqueue.h)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(ConcurrentQueue REQUIRED_VARS ConcurrentQueue_INCLUDE_DIR)

if(ConcurrentQueue_FOUND AND NOT TARGET moodycamel::concurrentqueue)
  add_library(moodycamel::concurrentqueue INTERFACE IMPORTED)
  set_target_properties(moodycamel::concurrentqueue PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${ConcurrentQueue_INCLUDE_DIR}")
endif()
mark_as_advanced(ConcurrentQueue_INCLUDE_DIR)
