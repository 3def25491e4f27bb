// The Python object for a channel (erlang.channel.Channel, whose base type `_erlang.Channel`
// pymod/channels.cpp defines): what conversion makes of a channel term and takes back.
#pragma once

#include "engine/python/python.hpp"
#include "nif/bridge/channel_resource.hpp"
#include "nif/bridge/module_state.hpp"

namespace epy::nif {

struct ChannelObject {
  PyObject_HEAD ChannelResource* res;  // one reference, released in dealloc
};

// A Python object for the channel (an erlang.channel.Channel); keeps it alive. Attached.
PyObject* make_channel_object(ModuleState* st, ChannelResource* res);
// The channel of a Python channel object, or nullptr if `obj` is none.
ChannelResource* channel_of(ModuleState* st, PyObject* obj);

}  // namespace epy::nif
