#include "channels/common/wx_crypto.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "channels/common/xml.h"

namespace kefu::channels {
namespace {

constexpr char kToken[] = "QDG6eK";
constexpr char kKey[] = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
constexpr char kCorp[] = "wx5823bf96d3bd56c7";
constexpr char kRandom[] = "aaaabbbbccccdddd";

WxCryptConfig Cfg(std::string receive_id = kCorp) {
  WxCryptConfig c;
  c.token = kToken;
  EXPECT_EQ(DecodeAesKey(kKey, c.aes_key), CryptoError::kOk);
  c.receive_id = std::move(receive_id);
  return c;
}

// Encrypts arbitrary bytes (already padded by the caller) so tests can build broken plaintexts.
std::string RawEncrypt(const AesKey& key, const std::string& plain) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), nullptr, key.data(), key.data());
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  std::string out(plain.size() + 16, '\0');
  int l1 = 0;
  int l2 = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  EVP_EncryptUpdate(ctx, o, &l1, reinterpret_cast<const unsigned char*>(plain.data()),
                    static_cast<int>(plain.size()));
  EVP_EncryptFinal_ex(ctx, o + l1, &l2);
  EVP_CIPHER_CTX_free(ctx);
  out.resize(static_cast<size_t>(l1 + l2));
  return Base64Encode(out);
}

std::string Be32(uint32_t v) {
  std::string s(4, '\0');
  s[0] = static_cast<char>(v >> 24);
  s[1] = static_cast<char>(v >> 16);
  s[2] = static_cast<char>(v >> 8);
  s[3] = static_cast<char>(v);
  return s;
}

std::string Frame(const std::string& msg, const std::string& rid, uint32_t len) {
  return std::string(kRandom) + Be32(len) + msg + rid;
}

std::string Pad32(std::string s) {
  size_t n = 32 - s.size() % 32;
  s.append(n, static_cast<char>(n));
  return s;
}

// Appendix A, with the echostr already percent-decoded.
constexpr char kEchoStr[] =
    "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==";
constexpr char kEchoSig[] = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3";

TEST(WxCrypto, AppendixAVectorVerifiesUrl) {
  std::string reply;
  ASSERT_EQ(WecomVerifyUrl(Cfg(), kEchoSig, "1409659589", "263014780", kEchoStr, reply),
            CryptoError::kOk);
  EXPECT_EQ(reply, "1616140317555161061");
}

TEST(WxCrypto, AppendixAEchoStrArrivesPercentEncodedAndDecodesToTheSignedString) {
  std::string decoded;
  ASSERT_TRUE(
      PercentDecode("P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%"
                    "2B4RPcs8TgAE7OaBO%2BFZXvnaqQ%"
                    "3D%3D",
                    decoded));
  EXPECT_EQ(decoded, kEchoStr);
}

TEST(WxCrypto, EchoStrLeftPercentEncodedFailsSignature) {
  std::string reply;
  EXPECT_EQ(
      WecomVerifyUrl(Cfg(), kEchoSig, "1409659589", "263014780",
                     "P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%2B4RPcs8T"
                     "gAE7OaBO%2BFZXvnaqQ%3D%3D",
                     reply),
      CryptoError::kValidateSignature);
}

TEST(WxCrypto, PlusTurnedIntoSpaceFailsSignature) {
  std::string bad = kEchoStr;
  for (char& c : bad) {
    if (c == '+') c = ' ';
  }
  std::string reply;
  EXPECT_EQ(WecomVerifyUrl(Cfg(), kEchoSig, "1409659589", "263014780", bad, reply),
            CryptoError::kValidateSignature);
}

TEST(WxCrypto, PercentDecodeKeepsLiteralPlus) {
  std::string out;
  ASSERT_TRUE(PercentDecode("a+b%2Bc", out));
  EXPECT_EQ(out, "a+b+c");
  EXPECT_FALSE(PercentDecode("abc%2", out));
  EXPECT_FALSE(PercentDecode("abc%zz", out));
}

TEST(WxCrypto, SignatureMismatchOnAnyAlteredInputIsRejectedBeforeDecrypt) {
  std::string reply;
  EXPECT_EQ(WecomVerifyUrl(Cfg(), kEchoSig, "1409659590", "263014780", kEchoStr, reply),
            CryptoError::kValidateSignature);
  EXPECT_EQ(WecomVerifyUrl(Cfg(), kEchoSig, "1409659589", "263014781", kEchoStr, reply),
            CryptoError::kValidateSignature);
  WxCryptConfig other = Cfg();
  other.token = "QDG6eL";
  EXPECT_EQ(WecomVerifyUrl(other, kEchoSig, "1409659589", "263014780", kEchoStr, reply),
            CryptoError::kValidateSignature);
  std::string altered = kEchoStr;
  altered[0] = 'Q';
  EXPECT_EQ(WecomVerifyUrl(Cfg(), kEchoSig, "1409659589", "263014780", altered, reply),
            CryptoError::kValidateSignature);
  EXPECT_TRUE(reply.empty());
}

TEST(WxCrypto, UppercaseHexSignatureIsRejected) {
  std::string upper = kEchoSig;
  for (char& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string reply;
  EXPECT_EQ(WecomVerifyUrl(Cfg(), upper, "1409659589", "263014780", kEchoStr, reply),
            CryptoError::kValidateSignature);
}

TEST(WxCrypto, SignatureSortIsBytewiseNotCaseInsensitive) {
  // Bytewise: "B" < "a" < "b"; a case-insensitive sort would order "a" < "B" < "b".
  std::string bytewise = Sha1Signature("a", "B", "b", "+1");
  EXPECT_EQ(bytewise, Sha1Signature("b", "+1", "a", "B"));
  unsigned char md[20];
  std::string concat = "+1Bab";
  EVP_Digest(concat.data(), concat.size(), md, nullptr, EVP_sha1(), nullptr);
  char hex[41];
  for (int i = 0; i < 20; ++i)
    std::snprintf(hex + 2 * i, 3, "%02x", md[i]);
  EXPECT_EQ(bytewise, std::string(hex, 40));
}

TEST(WxCrypto, EmptyTimestampNonceOrEncryptIsRejectedBeforeHashing) {
  std::string sig = Sha1Signature(kToken, "", "n", "e");
  EXPECT_FALSE(VerifySha1Signature(kToken, "", "n", "e", sig));
  EXPECT_FALSE(VerifySha1Signature(kToken, "1", "", "e", Sha1Signature(kToken, "1", "", "e")));
  EXPECT_FALSE(VerifySha1Signature(kToken, "1", "n", "", Sha1Signature(kToken, "1", "n", "")));
  EXPECT_FALSE(VerifySha1Signature("", "1", "n", "e", Sha1Signature("", "1", "n", "e")));
}

TEST(WxCrypto, AesKeyWithWrongLengthOrAlphabetIsIllegal) {
  AesKey k;
  EXPECT_EQ(DecodeAesKey(std::string(kKey).substr(0, 42), k), CryptoError::kIllegalAesKey);
  EXPECT_EQ(DecodeAesKey(std::string(kKey) + "A", k), CryptoError::kIllegalAesKey);
  std::string star = kKey;
  star[5] = '*';
  EXPECT_EQ(DecodeAesKey(star, k), CryptoError::kIllegalAesKey);
  std::string padded = std::string(kKey).substr(0, 42) + "=";
  EXPECT_EQ(DecodeAesKey(padded, k), CryptoError::kIllegalAesKey);
}

TEST(WxCrypto, AesKeyWithNonZeroTrailingBitsDecodes) {
  AesKey k;
  // 'C' = 2 = 0b000010: the low 4 bits are non-zero, a strict decoder rejects it.
  ASSERT_EQ(DecodeAesKey(kKey, k), CryptoError::kOk);
  AesKey k2;
  std::string zeroed = kKey;
  zeroed[42] = 'A';  // same top 2 bits (00), zero padding bits
  ASSERT_EQ(DecodeAesKey(zeroed, k2), CryptoError::kOk);
  EXPECT_EQ(k, k2);
}

TEST(WxCrypto, EncryptDecryptRoundTripWithFixedRandom) {
  WxCryptConfig c = Cfg();
  std::string b64;
  ASSERT_EQ(Encrypt(c.aes_key, "hello 你好 😀", kCorp, kRandom, b64), CryptoError::kOk);
  EXPECT_EQ(b64.find('\n'), std::string::npos);
  std::string msg;
  ASSERT_EQ(Decrypt(c.aes_key, b64, kCorp, msg), CryptoError::kOk);
  EXPECT_EQ(msg, "hello 你好 😀");
  std::string again;
  ASSERT_EQ(Encrypt(c.aes_key, "hello 你好 😀", kCorp, kRandom, again), CryptoError::kOk);
  EXPECT_EQ(again, b64);
  EXPECT_EQ(Encrypt(c.aes_key, "x", kCorp, "short", again), CryptoError::kEncryptAes);
}

TEST(WxCrypto, LongMessageNeverHasLineBreaksInBase64) {
  WxCryptConfig c = Cfg();
  std::string b64;
  ASSERT_EQ(Encrypt(c.aes_key, std::string(500, 'x'), kCorp, kRandom, b64), CryptoError::kOk);
  EXPECT_GT(b64.size(), 76u);
  EXPECT_EQ(b64.find('\n'), std::string::npos);
}

TEST(WxCrypto, InvalidBase64CiphertextIsDecodeBase64Error) {
  WxCryptConfig c = Cfg();
  std::string msg;
  std::string good;
  ASSERT_EQ(Encrypt(c.aes_key, "hi", kCorp, kRandom, good), CryptoError::kOk);
  for (std::string bad :
       {good.substr(0, 10) + "*" + good.substr(11), good.substr(0, 10) + " " + good.substr(11),
        good.substr(0, 10) + "\n" + good.substr(11), good.substr(1), std::string(""),
        std::string("AB=C")}) {
    EXPECT_EQ(Decrypt(c.aes_key, bad, kCorp, msg), CryptoError::kDecodeBase64) << bad;
  }
  // '=' dropped from an input that needs it: length is no longer a multiple of 4.
  std::string need_pad = Base64Encode(std::string(16, 'x'));
  ASSERT_EQ(need_pad.back(), '=');
  need_pad.pop_back();
  EXPECT_EQ(Decrypt(c.aes_key, need_pad, kCorp, msg), CryptoError::kDecodeBase64);
}

TEST(WxCrypto, CiphertextNotMultipleOf16IsDecryptError) {
  WxCryptConfig c = Cfg();
  std::string msg;
  EXPECT_EQ(Decrypt(c.aes_key, Base64Encode(std::string(15, 'x')), kCorp, msg),
            CryptoError::kDecryptAes);
  EXPECT_EQ(Decrypt(c.aes_key, Base64Encode(std::string(33, 'x')), kCorp, msg),
            CryptoError::kDecryptAes);
}

TEST(WxCrypto, CiphertextMultipleOf16ButNot32IsAccepted) {
  WxCryptConfig c = Cfg();
  // 20 + 2 + 18 = 40 bytes, padded to a 16-multiple (48) with 8 bytes of 0x08.
  std::string plain = Frame("hi", kCorp, 2);
  plain.append(8, '\x08');
  ASSERT_EQ(plain.size(), 48u);
  std::string msg;
  ASSERT_EQ(Decrypt(c.aes_key, RawEncrypt(c.aes_key, plain), kCorp, msg), CryptoError::kOk);
  EXPECT_EQ(msg, "hi");
}

TEST(WxCrypto, BadPaddingByteIsDecryptError) {
  WxCryptConfig c = Cfg();
  std::string msg;
  std::string base = Frame("hi", kCorp, 2);  // 40 bytes
  std::string zero = base + std::string(24, '\0');
  EXPECT_EQ(Decrypt(c.aes_key, RawEncrypt(c.aes_key, zero), kCorp, msg), CryptoError::kDecryptAes);
  std::string big = base + std::string(24, '\x21');  // 33 > 32
  EXPECT_EQ(Decrypt(c.aes_key, RawEncrypt(c.aes_key, big), kCorp, msg), CryptoError::kDecryptAes);
}

TEST(WxCrypto, PadLargerThanPlaintextIsDecryptError) {
  WxCryptConfig c = Cfg();
  std::string msg;
  std::string sixteen(15, 'x');
  sixteen += static_cast<char>(20);  // 20 > 16 bytes of plaintext, within 1..32
  EXPECT_EQ(Decrypt(c.aes_key, RawEncrypt(c.aes_key, sixteen), kCorp, msg),
            CryptoError::kDecryptAes);
}

TEST(WxCrypto, InconsistentPadBytesWithValidLastByteAreAccepted) {
  WxCryptConfig c = Cfg();
  std::string plain = Frame("hi", kCorp, 2) + std::string(23, '\x07') + "\x18";
  ASSERT_EQ(plain.size(), 64u);
  std::string msg;
  ASSERT_EQ(Decrypt(c.aes_key, RawEncrypt(c.aes_key, plain), kCorp, msg), CryptoError::kOk);
  EXPECT_EQ(msg, "hi");
}

TEST(WxCrypto, PlaintextShorterThan20BytesIsIllegalBuffer) {
  WxCryptConfig c = Cfg();
  std::string msg;
  std::string plain = std::string(19, 'x') + std::string(13, '\x0d');
  EXPECT_EQ(Decrypt(c.aes_key, RawEncrypt(c.aes_key, plain), kCorp, msg),
            CryptoError::kIllegalBuffer);
}

TEST(WxCrypto, MsgLenBeyondBodyIncludingAllOnesIsIllegalBuffer) {
  WxCryptConfig c = Cfg();
  std::string msg;
  EXPECT_EQ(Decrypt(c.aes_key, RawEncrypt(c.aes_key, Pad32(Frame("hi", kCorp, 21))), kCorp, msg),
            CryptoError::kIllegalBuffer);
  EXPECT_EQ(
      Decrypt(c.aes_key, RawEncrypt(c.aes_key, Pad32(Frame("hi", kCorp, 0xFFFFFFFFu))), kCorp, msg),
      CryptoError::kIllegalBuffer);
}

TEST(WxCrypto, EmptyMessageIsValid) {
  WxCryptConfig c = Cfg();
  std::string b64;
  ASSERT_EQ(Encrypt(c.aes_key, "", kCorp, kRandom, b64), CryptoError::kOk);
  std::string msg = "junk";
  ASSERT_EQ(Decrypt(c.aes_key, b64, kCorp, msg), CryptoError::kOk);
  EXPECT_EQ(msg, "");
  // Exactly 20 bytes after unpadding: empty msg, empty ReceiveId.
  ASSERT_EQ(Decrypt(c.aes_key, RawEncrypt(c.aes_key, Pad32(Frame("", "", 0))), "", msg),
            CryptoError::kOk);
}

TEST(WxCrypto, WrongReceiveIdIsRejected) {
  WxCryptConfig c = Cfg();
  std::string b64;
  ASSERT_EQ(Encrypt(c.aes_key, "hi", kCorp, kRandom, b64), CryptoError::kOk);
  std::string msg;
  for (std::string rid :
       {std::string("ww1436e0e65a779aee"), std::string("suite4xxxxxxxxxx"),
        std::string(kCorp) + "x", std::string("WX5823BF96D3BD56C7"), std::string("")}) {
    EXPECT_EQ(Decrypt(c.aes_key, b64, rid, msg), CryptoError::kValidateReceiveId) << rid;
  }
}

TEST(WxCrypto, EmptyConfiguredReceiveIdRequiresEmptyTail) {
  WxCryptConfig c = Cfg("");
  std::string empty_tail;
  std::string corp_tail;
  ASSERT_EQ(Encrypt(c.aes_key, "hi", "", kRandom, empty_tail), CryptoError::kOk);
  ASSERT_EQ(Encrypt(c.aes_key, "hi", kCorp, kRandom, corp_tail), CryptoError::kOk);
  std::string msg;
  EXPECT_EQ(Decrypt(c.aes_key, empty_tail, "", msg), CryptoError::kOk);
  EXPECT_EQ(Decrypt(c.aes_key, corp_tail, "", msg), CryptoError::kValidateReceiveId);
}

std::string Envelope(const std::string& enc, bool cdata = true, const std::string& ws = "") {
  std::string e = cdata ? "<![CDATA[" + ws + enc + ws + "]]>" : ws + enc + ws;
  return "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><AgentID>218</AgentID>"
         "<Encrypt>" +
         e + "</Encrypt></xml>";
}

TEST(WxCrypto, PostEnvelopeWithOrWithoutCdataAndWhitespaceGivesSameResult) {
  WxCryptConfig c = Cfg();
  std::string enc;
  ASSERT_EQ(Encrypt(c.aes_key, "<xml><MsgType>text</MsgType></xml>", kCorp, kRandom, enc),
            CryptoError::kOk);
  std::string sig = Sha1Signature(kToken, "1409659813", "n1", enc);
  for (const std::string& body : {Envelope(enc), Envelope(enc, false), Envelope(enc, true, "\n  "),
                                  Envelope(enc, false, " \r\n")}) {
    std::string pt;
    ASSERT_EQ(WecomDecryptXml(c, sig, "1409659813", "n1", body, pt), CryptoError::kOk) << body;
    EXPECT_EQ(pt, "<xml><MsgType>text</MsgType></xml>");
  }
}

TEST(WxCrypto, EnvelopeTouserIsIgnoredOnlyDecryptedReceiveIdCounts) {
  WxCryptConfig c = Cfg("ww1436e0e65a779aee");
  std::string enc;
  ASSERT_EQ(Encrypt(c.aes_key, "<xml/>", "ww1436e0e65a779aee", kRandom, enc), CryptoError::kOk);
  std::string sig = Sha1Signature(kToken, "1", "n", enc);
  std::string pt;
  // Envelope claims wx5823bf96d3bd56c7; the ciphertext carries the configured id: accepted.
  EXPECT_EQ(WecomDecryptXml(c, sig, "1", "n", Envelope(enc), pt), CryptoError::kOk);
}

TEST(WxCrypto, EnvelopeWithDoctypeIsRejectedAsXxe) {
  WxCryptConfig c = Cfg();
  std::string enc;
  ASSERT_EQ(Encrypt(c.aes_key, "<xml/>", kCorp, kRandom, enc), CryptoError::kOk);
  std::string sig = Sha1Signature(kToken, "1", "n", enc);
  std::string body =
      "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>" +
      Envelope(enc);
  std::string pt;
  EXPECT_EQ(WecomDecryptXml(c, sig, "1", "n", body, pt), CryptoError::kParseXml);
}

TEST(WxCrypto, MalformedEnvelopeIsParseError) {
  WxCryptConfig c = Cfg();
  std::string pt;
  EXPECT_EQ(WecomDecryptXml(c, "x", "1", "n", "<xml><Encrypt>abc</xml>", pt),
            CryptoError::kParseXml);
  EXPECT_EQ(WecomDecryptXml(c, "x", "1", "n", "<xml><Other>abc</Other></xml>", pt),
            CryptoError::kParseXml);
  EXPECT_EQ(WecomDecryptXml(c, "x", "1", "n", "", pt), CryptoError::kParseXml);
}

TEST(WxCrypto, DecryptedPayloadWithInvalidUtf8IsRejectedNotReplaced) {
  WxCryptConfig c = Cfg();
  std::string enc;
  ASSERT_EQ(Encrypt(c.aes_key, "<xml>\xff\xfe</xml>", kCorp, kRandom, enc), CryptoError::kOk);
  std::string sig = Sha1Signature(kToken, "1", "n", enc);
  std::string pt;
  EXPECT_EQ(WecomDecryptXml(c, sig, "1", "n", Envelope(enc), pt), CryptoError::kParseXml);
  EXPECT_TRUE(pt.empty());
}

TEST(WxCrypto, Utf8ValidatorRejectsOverlongsSurrogatesAndTruncation) {
  EXPECT_TRUE(IsValidUtf8("abc 你好 😀 👍🏽 👨‍👩‍👧"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf0\x9f\x98"));      // truncated emoji
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  // Bad bytes after, between and inside long ASCII runs (validated eight bytes at a time).
  EXPECT_TRUE(IsValidUtf8(std::string(16, 'a') + "你好" + std::string(9, 'b')));
  EXPECT_FALSE(IsValidUtf8(std::string(17, 'a') + "\xff"));
  EXPECT_FALSE(IsValidUtf8(std::string(8, 'a') + "\xe4\xbd" + std::string(8, 'b')));
  EXPECT_FALSE(IsValidUtf8(std::string(15, 'a') + "\x80" + std::string(15, 'a')));
}

TEST(WxCrypto, EncryptedReplyXmlRoundTripsAndIsSigned) {
  WxCryptConfig c = Cfg();
  std::string xml;
  ASSERT_EQ(WecomEncryptReplyXml(c, "<xml><Content>hi</Content></xml>", "1409659813", "nonce1",
                                 kRandom, xml),
            CryptoError::kOk);
  auto f = ParseFlatXml(xml);
  ASSERT_TRUE(f.ok());
  std::string enc = (*f)["Encrypt"];
  EXPECT_EQ((*f)["MsgSignature"], Sha1Signature(kToken, "1409659813", "nonce1", enc));
  EXPECT_EQ((*f)["TimeStamp"], "1409659813");
  EXPECT_EQ((*f)["Nonce"], "nonce1");
  std::string pt;
  ASSERT_EQ(Decrypt(c.aes_key, enc, kCorp, pt), CryptoError::kOk);
  EXPECT_EQ(pt, "<xml><Content>hi</Content></xml>");
}

TEST(WxCrypto, DingtalkEventDecryptAndSuccessReply) {
  WxCryptConfig c = Cfg("dingappkey123");
  std::string enc;
  ASSERT_EQ(Encrypt(c.aes_key, R"({"EventType":"check_url"})", "dingappkey123", kRandom, enc),
            CryptoError::kOk);
  std::string ts = "1609459200000";  // ms, opaque in the signature
  std::string json;
  ASSERT_EQ(DingtalkDecryptEvent(c, Sha1Signature(kToken, ts, "n", enc), ts, "n", enc, json),
            CryptoError::kOk);
  EXPECT_EQ(json, R"({"EventType":"check_url"})");
  EXPECT_EQ(DingtalkDecryptEvent(c, Sha1Signature(kToken, ts, "m", enc), ts, "n", enc, json),
            CryptoError::kValidateSignature);

  std::string reply;
  ASSERT_EQ(DingtalkSuccessReply(c, ts, "abcdefgh12345678", kRandom, reply), CryptoError::kOk);
  auto j = nlohmann::json::parse(reply);
  std::string renc = j["encrypt"];
  EXPECT_EQ(j["msg_signature"], Sha1Signature(kToken, ts, "abcdefgh12345678", renc));
  EXPECT_EQ(j["timeStamp"], ts);
  std::string success;
  ASSERT_EQ(Decrypt(c.aes_key, renc, "dingappkey123", success), CryptoError::kOk);
  EXPECT_EQ(success, "success");
}

TEST(WxCrypto, DingtalkRobotSignMatchesHmacAndWindowIsOneHourInclusive) {
  const std::string secret = "SECexample";
  const std::string ts = "1577262236757";
  std::string sign = DingtalkRobotSign(ts, secret);
  EXPECT_EQ(sign, HmacSha256Base64(secret, ts + "\n" + secret));
  int64_t t = 1577262236757;
  EXPECT_TRUE(DingtalkVerifyRobotCallback(ts, sign, secret, t));
  EXPECT_TRUE(DingtalkVerifyRobotCallback(ts, sign, secret, t + 3'600'000));
  EXPECT_TRUE(DingtalkVerifyRobotCallback(ts, sign, secret, t - 3'600'000));
  EXPECT_FALSE(DingtalkVerifyRobotCallback(ts, sign, secret, t + 3'600'001));
  EXPECT_FALSE(DingtalkVerifyRobotCallback(ts, sign, secret, t - 3'600'001));
  EXPECT_FALSE(DingtalkVerifyRobotCallback(ts, sign, "SECother", t));
  EXPECT_FALSE(DingtalkVerifyRobotCallback("", sign, secret, t));
  EXPECT_FALSE(DingtalkVerifyRobotCallback("15772622x6757", sign, secret, t));
  EXPECT_FALSE(DingtalkVerifyRobotCallback(ts, PercentEncode(sign), secret, t));
}

TEST(WxCrypto, CustomRobotSecretUsedVerbatimAndUrlEncodedOnce) {
  std::string sign = DingtalkRobotSign("1600000000000", "SEC000abc");
  EXPECT_NE(sign, DingtalkRobotSign("1600000000000", "000abc"));
  std::string once = PercentEncode(sign);
  std::string back;
  ASSERT_TRUE(PercentDecode(once, back));
  EXPECT_EQ(back, sign);
  EXPECT_EQ(once.find('+'), std::string::npos);
  EXPECT_EQ(once.find('/'), std::string::npos);
  EXPECT_EQ(once.find('='), std::string::npos);
}

}  // namespace
}  // namespace kefu::channels
