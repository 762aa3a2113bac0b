// The domain lexicon used by the analyzer: words (learned from the FAQ base plus the admin
// dictionary), synonyms (variant -> canonical, applied to both FAQ and query text) and filler
// words whose weight is damped at query time.
//
// A Lexicon is an immutable value once built; share it as std::shared_ptr<const Lexicon> between
// threads. To change it, build a new one and swap the pointer (see Analyzer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace kefu::knowledge {

struct VocabularyOptions {
  // Minimum occurrences of a character sequence in the FAQ texts to be a word candidate; the
  // effective minimum is max(min_count, texts * min_count_per_text).
  int min_count = 4;
  double min_count_per_text = 0.0004;
  size_t min_length = 2;  // in characters
  size_t max_length = 4;
  // Cohesion: minimum over all split points of log(p(w) / (p(left) * p(right))).
  double min_pmi = 2.0;
  // Freedom: minimum of the left and right neighbour entropies (nats).
  double min_boundary_entropy = 1.0;
  size_t max_words = 20000;
};

struct LearnedWord {
  std::u32string word;
  int count = 0;
  double pmi = 0;
  double boundary_entropy = 0;
};

// Learns frequent, cohesive character sequences (Han characters only) from normalised texts:
// frequency, then PMI over the weakest split point, then left/right boundary entropy. Sorted by
// count, descending. Deterministic for the same input.
std::vector<LearnedWord> LearnVocabulary(const std::vector<std::u32string>& normalised_texts,
                                         const VocabularyOptions& options = {});

// Question-type bits of a normalised text (1 why, 2 how, 4 yes/no, 8 amount, 16 time, 32 place)
// and whether it is negated: language-level cues used by the reranker.
uint8_t QuestionTypeOf(std::u32string_view text);
bool IsNegated(std::u32string_view text);

// Transparent hashing so lookups by std::u32string_view do not allocate.
struct U32Hash {
  using is_transparent = void;
  size_t operator()(std::u32string_view s) const { return std::hash<std::u32string_view>{}(s); }
};

class Lexicon {
 public:
  Lexicon();

  // Adds a word (normalised text; 2+ code points, otherwise ignored).
  void AddWord(std::u32string word);
  // Declares `variant` a synonym of `canonical` (both normalised, non-empty, different).
  void AddSynonym(std::u32string variant, std::u32string canonical);

  bool IsWord(std::u32string_view s) const { return words_.contains(s); }
  size_t max_word_length() const { return max_word_length_; }
  size_t word_count() const { return words_.size(); }

  // Query weight multiplier of a token text: < 1 for filler words and particles, else 1.
  double FillerWeight(std::u32string_view token) const;

  // Rewrites every synonym variant in `chars` to its canonical form, longest match first,
  // keeping `begin`/`end` (original byte offsets) aligned with the output.
  void ApplySynonyms(std::u32string& chars, std::vector<uint32_t>& begin,
                     std::vector<uint32_t>& end) const;
  bool has_synonyms() const { return !synonyms_.empty(); }

 private:
  std::unordered_set<std::u32string, U32Hash, std::equal_to<>> words_;
  size_t max_word_length_ = 0;
  std::unordered_map<std::u32string, std::u32string, U32Hash, std::equal_to<>> synonyms_;
  std::unordered_set<char32_t> synonym_starts_;  // first characters of the variants
  size_t max_variant_length_ = 0;
  std::unordered_map<std::u32string, double, U32Hash, std::equal_to<>> filler_;
};

}  // namespace kefu::knowledge
