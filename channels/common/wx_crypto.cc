#include "channels/common/wx_crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>

#include "channels/common/xml.h"

namespace kefu::channels {
namespace {

constexpr char kB64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr size_t kPadBlock = 32;

// Value of each Base64 alphabet byte, -1 for every other byte.
constexpr std::array<int8_t, 256> kB64Values = [] {
  std::array<int8_t, 256> t{};
  t.fill(-1);
  for (int i = 0; i < 64; ++i)
    t[static_cast<unsigned char>(kB64Alphabet[i])] = static_cast<int8_t>(i);
  return t;
}();

int B64Value(char c) {
  return kB64Values[static_cast<unsigned char>(c)];
}

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[p[i] >> 4];
    out[2 * i + 1] = kHex[p[i] & 0xF];
  }
  return out;
}

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

// Algorithms fetched once: with OpenSSL 3 the implicit fetch behind EVP_aes_256_cbc() /
// EVP_sha1() looks the provider up on every Init (a lock and a hash lookup per callback in the
// profile). Fetched objects are immutable and shared by all threads; they live until exit.
const EVP_CIPHER* Aes256Cbc() {
  static const EVP_CIPHER* const kCipher = [] {
    const EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr);
    return c != nullptr ? c : EVP_aes_256_cbc();
  }();
  return kCipher;
}

const EVP_MD* Sha1() {
  static const EVP_MD* const kMd = [] {
    const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA1", nullptr);
    return md != nullptr ? md : EVP_sha1();
  }();
  return kMd;
}

// AES-256-CBC without OpenSSL padding; `in` must be a multiple of 16.
bool AesCbc(const AesKey& key, std::string_view in, std::string& out, bool encrypt) {
  std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter> ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return false;
  const unsigned char* k = key.data();
  if (EVP_CipherInit_ex(ctx.get(), Aes256Cbc(), nullptr, k, k, encrypt ? 1 : 0) != 1) {
    return false;
  }
  EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
  out.resize(in.size() + 16);
  int len1 = 0;
  int len2 = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (EVP_CipherUpdate(ctx.get(), o, &len1, reinterpret_cast<const unsigned char*>(in.data()),
                       static_cast<int>(in.size())) != 1) {
    return false;
  }
  if (EVP_CipherFinal_ex(ctx.get(), o + len1, &len2) != 1) return false;
  out.resize(static_cast<size_t>(len1 + len2));
  return true;
}

std::string TrimAscii(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && ws(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && ws(s.back()))
    s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

std::string_view CryptoErrorName(CryptoError e) {
  switch (e) {
    case CryptoError::kOk:
      return "ok";
    case CryptoError::kValidateSignature:
      return "validate_signature";
    case CryptoError::kParseXml:
      return "parse_xml";
    case CryptoError::kComputeSignature:
      return "compute_signature";
    case CryptoError::kIllegalAesKey:
      return "illegal_aes_key";
    case CryptoError::kValidateReceiveId:
      return "validate_receive_id";
    case CryptoError::kEncryptAes:
      return "encrypt_aes";
    case CryptoError::kDecryptAes:
      return "decrypt_aes";
    case CryptoError::kIllegalBuffer:
      return "illegal_buffer";
    case CryptoError::kEncodeBase64:
      return "encode_base64";
    case CryptoError::kDecodeBase64:
      return "decode_base64";
    case CryptoError::kGenReturn:
      return "gen_return";
  }
  return "unknown";
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto b = [&](size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (b(i) << 16) | (b(i + 1) << 8) | b(i + 2);
    out += kB64Alphabet[(v >> 18) & 63];
    out += kB64Alphabet[(v >> 12) & 63];
    out += kB64Alphabet[(v >> 6) & 63];
    out += kB64Alphabet[v & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = b(i) << 16;
    out += kB64Alphabet[(v >> 18) & 63];
    out += kB64Alphabet[(v >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    uint32_t v = (b(i) << 16) | (b(i + 1) << 8);
    out += kB64Alphabet[(v >> 18) & 63];
    out += kB64Alphabet[(v >> 12) & 63];
    out += kB64Alphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

bool Base64Decode(std::string_view b64, std::string& out) {
  out.clear();
  if (b64.empty() || b64.size() % 4 != 0) return false;
  size_t pad = 0;
  if (b64.back() == '=') pad = (b64[b64.size() - 2] == '=') ? 2 : 1;
  size_t data_chars = b64.size() - pad;
  out.resize(data_chars * 6 / 8);
  char* o = out.data();
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < data_chars; ++i) {
    int v = B64Value(b64[i]);
    if (v < 0) {  // includes a '=' in the middle
      out.clear();
      return false;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *o++ = static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  // The leftover (< 8) bits are padding; they are ignored whatever their value.
  return true;
}

CryptoError DecodeAesKey(std::string_view encoding_aes_key, AesKey& out) {
  if (encoding_aes_key.size() != 43) return CryptoError::kIllegalAesKey;
  for (char c : encoding_aes_key) {
    if (B64Value(c) < 0) return CryptoError::kIllegalAesKey;
  }
  std::string raw;
  std::string padded(encoding_aes_key);
  padded += '=';
  if (!Base64Decode(padded, raw) || raw.size() != 32) return CryptoError::kIllegalAesKey;
  std::copy(raw.begin(), raw.end(), out.begin());
  return CryptoError::kOk;
}

std::string Sha1Signature(std::string_view token, std::string_view timestamp,
                          std::string_view nonce, std::string_view encrypt) {
  std::array<std::string_view, 4> parts{token, timestamp, nonce, encrypt};
  // std::string_view compares with char_traits<char>::compare == memcmp: unsigned byte order.
  std::sort(parts.begin(), parts.end());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), Sha1(), nullptr) != 1) return {};
  for (auto p : parts)
    EVP_DigestUpdate(ctx.get(), p.data(), p.size());
  if (EVP_DigestFinal_ex(ctx.get(), md, &md_len) != 1) return {};
  return Hex(md, md_len);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool VerifySha1Signature(std::string_view token, std::string_view timestamp, std::string_view nonce,
                         std::string_view encrypt, std::string_view received) {
  if (token.empty() || timestamp.empty() || nonce.empty() || encrypt.empty()) return false;
  if (received.size() != 40) return false;
  return ConstantTimeEquals(Sha1Signature(token, timestamp, nonce, encrypt), received);
}

CryptoError Decrypt(const AesKey& key, std::string_view b64, std::string_view expected_receive_id,
                    std::string& msg_out) {
  msg_out.clear();
  std::string ct;
  if (!Base64Decode(b64, ct)) return CryptoError::kDecodeBase64;
  if (ct.empty() || ct.size() % 16 != 0) return CryptoError::kDecryptAes;
  std::string pt;
  if (!AesCbc(key, ct, pt, /*encrypt=*/false)) return CryptoError::kDecryptAes;
  size_t n = static_cast<unsigned char>(pt.back());
  if (n < 1 || n > kPadBlock || n > pt.size()) return CryptoError::kDecryptAes;
  std::string_view body(pt.data(), pt.size() - n);
  if (body.size() < 20) return CryptoError::kIllegalBuffer;
  auto u = [&](size_t i) { return static_cast<uint64_t>(static_cast<unsigned char>(body[i])); };
  uint64_t msg_len = (u(16) << 24) | (u(17) << 16) | (u(18) << 8) | u(19);
  if (msg_len > body.size() - 20) return CryptoError::kIllegalBuffer;
  std::string_view msg = body.substr(20, msg_len);
  std::string_view rid = body.substr(20 + msg_len);
  if (rid != expected_receive_id) return CryptoError::kValidateReceiveId;
  msg_out.assign(msg);
  return CryptoError::kOk;
}

CryptoError Encrypt(const AesKey& key, std::string_view msg, std::string_view receive_id,
                    std::string_view random16, std::string& b64_out) {
  b64_out.clear();
  if (random16.size() != 16 || msg.size() > 0xFFFFFFFFu) return CryptoError::kEncryptAes;
  std::string plain;
  plain.reserve(20 + msg.size() + receive_id.size() + kPadBlock);
  plain.append(random16);
  auto len = static_cast<uint32_t>(msg.size());
  plain += static_cast<char>((len >> 24) & 0xFF);
  plain += static_cast<char>((len >> 16) & 0xFF);
  plain += static_cast<char>((len >> 8) & 0xFF);
  plain += static_cast<char>(len & 0xFF);
  plain.append(msg);
  plain.append(receive_id);
  size_t n = kPadBlock - plain.size() % kPadBlock;
  plain.append(n, static_cast<char>(n));
  std::string ct;
  if (!AesCbc(key, plain, ct, /*encrypt=*/true)) return CryptoError::kEncryptAes;
  b64_out = Base64Encode(ct);
  return CryptoError::kOk;
}

std::string HmacSha256Base64(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &md_len);
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(md), md_len));
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return Hex(md, sizeof md);
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  auto c = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  while (i < n) {
    // ASCII runs (XML markup, Base64) eight bytes at a time.
    while (i + 8 <= n) {
      uint64_t word = 0;
      std::memcpy(&word, s.data() + i, sizeof word);
      if ((word & 0x8080808080808080ULL) != 0) break;
      i += 8;
    }
    if (i == n) break;
    unsigned char b = c(i);
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if ((b & 0xE0) == 0xC0) {
      len = 2;
      cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3;
      cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4;
      cp = b & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((c(i + k) & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c(i + k) & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) {
      return false;  // overlong
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

bool PercentDecode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  auto hexval = [](char h) -> int {
    if (h >= '0' && h <= '9') return h - '0';
    if (h >= 'a' && h <= 'f') return h - 'a' + 10;
    if (h >= 'A' && h <= 'F') return h - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = hexval(in[i + 1]);
    int lo = hexval(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

std::string PercentEncode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : in) {
    auto u = static_cast<unsigned char>(ch);
    if (std::isalnum(u) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

CryptoError WecomVerifyUrl(const WxCryptConfig& cfg, std::string_view sig, std::string_view ts,
                           std::string_view nonce, std::string_view echostr,
                           std::string& reply_out) {
  reply_out.clear();
  if (!VerifySha1Signature(cfg.token, ts, nonce, echostr, sig)) {
    return CryptoError::kValidateSignature;
  }
  return Decrypt(cfg.aes_key, echostr, cfg.receive_id, reply_out);
}

CryptoError WecomDecryptXml(const WxCryptConfig& cfg, std::string_view sig, std::string_view ts,
                            std::string_view nonce, std::string_view post_body,
                            std::string& plaintext_out) {
  plaintext_out.clear();
  auto env = ParseFlatXml(post_body);
  if (!env.ok()) return CryptoError::kParseXml;
  auto it = env->find("Encrypt");
  if (it == env->end()) return CryptoError::kParseXml;
  std::string encrypt = TrimAscii(it->second);
  if (!VerifySha1Signature(cfg.token, ts, nonce, encrypt, sig)) {
    return CryptoError::kValidateSignature;
  }
  CryptoError e = Decrypt(cfg.aes_key, encrypt, cfg.receive_id, plaintext_out);
  if (e != CryptoError::kOk) return e;
  if (!IsValidUtf8(plaintext_out)) {
    plaintext_out.clear();
    return CryptoError::kParseXml;
  }
  return CryptoError::kOk;
}

CryptoError WecomEncryptReplyXml(const WxCryptConfig& cfg, std::string_view plaintext,
                                 std::string_view ts, std::string_view nonce,
                                 std::string_view random16, std::string& xml_out) {
  xml_out.clear();
  std::string enc;
  CryptoError e = Encrypt(cfg.aes_key, plaintext, cfg.receive_id, random16, enc);
  if (e != CryptoError::kOk) return e;
  std::string sig = Sha1Signature(cfg.token, ts, nonce, enc);
  xml_out = "<xml>\n<Encrypt>" + Cdata(enc) + "</Encrypt>\n<MsgSignature>" + Cdata(sig) +
            "</MsgSignature>\n<TimeStamp>" + std::string(ts) + "</TimeStamp>\n<Nonce>" +
            Cdata(nonce) + "</Nonce>\n</xml>";
  return CryptoError::kOk;
}

CryptoError DingtalkDecryptEvent(const WxCryptConfig& cfg, std::string_view sig,
                                 std::string_view ts, std::string_view nonce,
                                 std::string_view encrypt, std::string& json_out) {
  json_out.clear();
  if (!VerifySha1Signature(cfg.token, ts, nonce, encrypt, sig)) {
    return CryptoError::kValidateSignature;
  }
  CryptoError e = Decrypt(cfg.aes_key, encrypt, cfg.receive_id, json_out);
  if (e != CryptoError::kOk) return e;
  if (!IsValidUtf8(json_out)) {
    json_out.clear();
    return CryptoError::kParseXml;
  }
  return CryptoError::kOk;
}

CryptoError DingtalkSuccessReply(const WxCryptConfig& cfg, std::string_view ts_ms,
                                 std::string_view nonce, std::string_view random16,
                                 std::string& json_out) {
  json_out.clear();
  std::string enc;
  CryptoError e = Encrypt(cfg.aes_key, "success", cfg.receive_id, random16, enc);
  if (e != CryptoError::kOk) return e;
  nlohmann::json j = {{"msg_signature", Sha1Signature(cfg.token, ts_ms, nonce, enc)},
                      {"timeStamp", std::string(ts_ms)},
                      {"nonce", std::string(nonce)},
                      {"encrypt", enc}};
  json_out = j.dump();
  return CryptoError::kOk;
}

std::string DingtalkRobotSign(std::string_view ts_ms, std::string_view secret) {
  std::string data(ts_ms);
  data += '\n';
  data.append(secret);
  return HmacSha256Base64(secret, data);
}

bool DingtalkVerifyRobotCallback(std::string_view ts_hdr, std::string_view sign_hdr,
                                 std::string_view app_secret, int64_t now_ms) {
  if (ts_hdr.empty() || ts_hdr.size() > 18) return false;
  if (!std::all_of(ts_hdr.begin(), ts_hdr.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    return false;
  }
  int64_t ts = std::stoll(std::string(ts_hdr));
  int64_t diff = now_ms > ts ? now_ms - ts : ts - now_ms;
  if (diff > 3'600'000) return false;
  return ConstantTimeEquals(DingtalkRobotSign(ts_hdr, app_secret), sign_hdr);
}

}  // namespace kefu::channels
