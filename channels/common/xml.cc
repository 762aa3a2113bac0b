#include "channels/common/xml.h"

#include <pugixml.hpp>

#include "channels/common/wx_crypto.h"

namespace kefu::channels {
namespace {

// True when `doc` contains "<!" followed by `keyword` (upper-case ASCII), compared ignoring ASCII
// case. One memchr-driven pass: callbacks are parsed on the I/O threads.
bool HasDeclaration(std::string_view doc, std::string_view keyword) {
  size_t pos = 0;
  while (true) {
    pos = doc.find("<!", pos);
    if (pos == std::string_view::npos) return false;
    pos += 2;
    if (doc.size() - pos < keyword.size()) return false;
    bool match = true;
    for (size_t i = 0; i < keyword.size() && match; ++i) {
      char c = doc[pos + i];
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      match = c == keyword[i];
    }
    if (match) return true;
  }
}

}  // namespace

Result<XmlFields> ParseFlatXml(std::string_view doc) {
  if (!IsValidUtf8(doc)) return InvalidArgument("xml: invalid UTF-8");
  if (HasDeclaration(doc, "DOCTYPE") || HasDeclaration(doc, "ENTITY")) {
    return InvalidArgument("xml: DOCTYPE/ENTITY declarations are not allowed");
  }
  pugi::xml_document xml;
  // parse_doctype stays off; pugixml never resolves external entities. parse_cdata keeps CDATA
  // as its own node so it can be concatenated with neighbouring text.
  unsigned options = pugi::parse_cdata | pugi::parse_escapes | pugi::parse_eol;
  pugi::xml_parse_result r = xml.load_buffer(doc.data(), doc.size(), options, pugi::encoding_utf8);
  if (!r) return InvalidArgument(std::string("xml: ") + r.description());
  pugi::xml_node root = xml.document_element();
  if (!root) return InvalidArgument("xml: no root element");
  XmlFields out;
  for (pugi::xml_node child : root.children()) {
    if (child.type() != pugi::node_element) continue;
    std::string text;
    for (pugi::xml_node t : child.children()) {
      if (t.type() == pugi::node_pcdata || t.type() == pugi::node_cdata) text += t.value();
    }
    out.emplace(child.name(), std::move(text));
  }
  return out;
}

std::string Cdata(std::string_view text) {
  std::string out = "<![CDATA[";
  size_t pos = 0;
  while (true) {
    size_t hit = text.find("]]>", pos);
    if (hit == std::string_view::npos) break;
    out.append(text.substr(pos, hit - pos));
    out.append("]]]]><![CDATA[>");
    pos = hit + 3;
  }
  out.append(text.substr(pos));
  out.append("]]>");
  return out;
}

std::string_view FieldOr(const XmlFields& f, std::string_view name, std::string_view dflt) {
  auto it = f.find(name);
  return it == f.end() ? dflt : std::string_view(it->second);
}

}  // namespace kefu::channels
