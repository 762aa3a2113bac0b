// XXE-safe parsing of the flat XML documents WeCom sends (envelopes and decrypted messages).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "core/result.h"

namespace kefu::channels {

// Child element name -> text of the root's direct children.
using XmlFields = std::map<std::string, std::string, std::less<>>;

// Parses `doc` with pugixml, with no DTD processing. Rejects any document containing a
// DOCTYPE or ENTITY declaration, invalid UTF-8, or malformed XML (kInvalidArgument naming the
// reason). The text of each direct child of the root element is the concatenation of all its
// text and CDATA nodes (so a CDATA split around "]]>" is joined back). Values are kept as
// strings (64-bit MsgIds stay exact).
Result<XmlFields> ParseFlatXml(std::string_view doc);

// Wraps `text` in a CDATA section, splitting it where it contains "]]>".
std::string Cdata(std::string_view text);

// Field value or "" when absent.
std::string_view FieldOr(const XmlFields& f, std::string_view name, std::string_view dflt = "");

}  // namespace kefu::channels
