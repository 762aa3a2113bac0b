// The WXBizMsgCrypt scheme shared by WeCom callbacks and DingTalk event callbacks (spec §1, §8),
// plus the DingTalk robot HMAC signatures (spec §4.1, §4.4).
//
// Everything here is a pure function: no clock, no RNG, no I/O. Callers pass timestamps, nonces and
// the 16-byte random prefix. Thread-safe (no shared state).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace kefu::channels {

// WeCom SDK error numbering (spec §1.5); DingTalk's 9000xx codes map onto the same values.
enum class CryptoError {
  kOk = 0,
  kValidateSignature = -40001,
  kParseXml = -40002,
  kComputeSignature = -40003,
  kIllegalAesKey = -40004,
  kValidateReceiveId = -40005,
  kEncryptAes = -40006,
  kDecryptAes = -40007,
  kIllegalBuffer = -40008,
  kEncodeBase64 = -40009,
  kDecodeBase64 = -40010,
  kGenReturn = -40011,
};

// Stable snake_case name ("validate_signature"), used in metrics labels and logs.
std::string_view CryptoErrorName(CryptoError e);

using AesKey = std::array<uint8_t, 32>;

// Decodes a 43-char EncodingAESKey (Base64 without the trailing '='). Ignores the 4 trailing
// padding bits of the last character (every real key has them non-zero). Returns kIllegalAesKey
// unless the key is exactly 43 chars of [A-Za-z0-9+/].
CryptoError DecodeAesKey(std::string_view encoding_aes_key, AesKey& out);

// lowercase_hex(SHA1(concat(sort_bytewise([token, ts, nonce, encrypt])))): 40 chars.
std::string Sha1Signature(std::string_view token, std::string_view timestamp,
                          std::string_view nonce, std::string_view encrypt);

// True when none of token/timestamp/nonce/encrypt is empty and `received` equals the computed
// signature exactly (case-sensitive, constant-time after the length check).
bool VerifySha1Signature(std::string_view token, std::string_view timestamp, std::string_view nonce,
                         std::string_view encrypt, std::string_view received);

// Decrypts Base64(AES-256-CBC(PKCS7_32(random16 || be32(len) || msg || receive_id))) and checks
// that the tail equals `expected_receive_id` byte for byte. Does NOT check any signature and does
// NOT validate UTF-8 (callers that parse text do). Errors: kDecodeBase64, kDecryptAes,
// kIllegalBuffer, kValidateReceiveId.
CryptoError Decrypt(const AesKey& key, std::string_view b64, std::string_view expected_receive_id,
                    std::string& msg_out);

// The inverse of Decrypt; `random16` must be exactly 16 bytes (kEncryptAes otherwise). Emits
// standard Base64 with '=' padding and no line breaks.
CryptoError Encrypt(const AesKey& key, std::string_view msg, std::string_view receive_id,
                    std::string_view random16, std::string& b64_out);

// RFC 4648 Base64 without line breaks.
std::string Base64Encode(std::string_view bytes);

// Alphabet-strict, length-strict (multiple of 4, '=' only as the final 1-2 chars), trailing-bit
// lenient Base64 decoding. Returns false on any violation.
bool Base64Decode(std::string_view b64, std::string& out);

// Base64(HMAC-SHA256(key, data)).
std::string HmacSha256Base64(std::string_view key, std::string_view data);

// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// Equal length and equal bytes, compared with CRYPTO_memcmp.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Percent-decodes a URL query component. '+' is kept literally (spec §2.1 POLICY). Returns false
// on a malformed escape.
bool PercentDecode(std::string_view in, std::string& out);

// Percent-encodes everything outside [A-Za-z0-9-_.~].
std::string PercentEncode(std::string_view in);

// Configuration of one WXBizMsgCrypt endpoint.
struct WxCryptConfig {
  std::string token;
  AesKey aes_key{};
  std::string receive_id;  // CorpID (WeCom), AppKey (DingTalk internal app), or "".
};

// GET URL verification: signature over echostr, then decrypt; `reply_out` is the plaintext msg.
CryptoError WecomVerifyUrl(const WxCryptConfig& cfg, std::string_view sig, std::string_view ts,
                           std::string_view nonce, std::string_view echostr,
                           std::string& reply_out);

// POST callback: parses the XML envelope (no DTD), takes the whitespace-trimmed Encrypt, verifies
// the signature, decrypts and validates UTF-8. kParseXml for envelope or UTF-8 problems;
// kValidateSignature before any decryption.
CryptoError WecomDecryptXml(const WxCryptConfig& cfg, std::string_view sig, std::string_view ts,
                            std::string_view nonce, std::string_view post_body,
                            std::string& plaintext_out);

// Builds the encrypted passive-reply XML envelope (spec §2.4).
CryptoError WecomEncryptReplyXml(const WxCryptConfig& cfg, std::string_view plaintext,
                                 std::string_view ts, std::string_view nonce,
                                 std::string_view random16, std::string& xml_out);

// DingTalk event callback: signature over the `encrypt` member, then decrypt and validate UTF-8.
CryptoError DingtalkDecryptEvent(const WxCryptConfig& cfg, std::string_view sig,
                                 std::string_view ts, std::string_view nonce,
                                 std::string_view encrypt, std::string& json_out);

// {"msg_signature","timeStamp","nonce","encrypt"} whose encrypt decrypts to "success".
CryptoError DingtalkSuccessReply(const WxCryptConfig& cfg, std::string_view ts_ms,
                                 std::string_view nonce, std::string_view random16,
                                 std::string& json_out);

// Base64(HMAC-SHA256(key=secret, ts_ms + "\n" + secret)); not URL-encoded.
std::string DingtalkRobotSign(std::string_view ts_ms, std::string_view secret);

// Robot HTTP callback check: ts all digits, |now - ts| <= 1 h, sign equal (constant time).
bool DingtalkVerifyRobotCallback(std::string_view ts_hdr, std::string_view sign_hdr,
                                 std::string_view app_secret, int64_t now_ms);

}  // namespace kefu::channels
