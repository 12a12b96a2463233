// A pre-parse scan shared by the wire libraries' decoders (k6/, volley/): counts the
// protobuf messages a body holds without building any, so that a hostile peer cannot make
// a parse allocate ~50 bytes of objects per 2 bytes of input. Private to src/wire.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <cstddef>
#include <cstdint>

namespace volley::wire {

// Counts the messages nested in the one `in` is positioned in (of type `type`) into
// *count; false if the wire format is broken or the count passes `budget` (then
// *count > budget). The recursion depth is the schema's: the schemas using it have no
// recursive types.
inline bool CountMessages(const google::protobuf::Descriptor* type,
                          google::protobuf::io::CodedInputStream* in, size_t budget,
                          size_t* count) {
  using google::protobuf::internal::WireFormatLite;
  for (;;) {
    const uint32_t tag = in->ReadTag();
    if (tag == 0) return in->BytesUntilLimit() == 0;
    const auto* field = type->FindFieldByNumber(WireFormatLite::GetTagFieldNumber(tag));
    const bool nested =
        field != nullptr && field->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
    if (!nested) {
      if (!WireFormatLite::SkipField(in, tag)) return false;
      continue;
    }
    uint32_t length = 0;
    if (!in->ReadVarint32(&length) || ++*count > budget) return false;
    if (static_cast<int64_t>(length) > in->BytesUntilLimit()) return false;
    const auto limit = in->PushLimit(static_cast<int>(length));
    if (!CountMessages(field->message_type(), in, budget, count)) return false;
    in->PopLimit(limit);
  }
}

}  // namespace volley::wire
