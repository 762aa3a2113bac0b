#include "knowledge/lexicon.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "knowledge/text_normalizer.h"

namespace kefu::knowledge {
namespace {

// Generic Mandarin filler: politeness formulas, pronouns, particles and hedges that carry no
// intent of their own. Language-level, not domain-level; damped, never dropped.
struct Filler {
  const char* text;
  double weight;
};
constexpr Filler kFillers[] = {
    {"请问", 0.1}, {"你好", 0.1}, {"您好", 0.1}, {"我想", 0.3}, {"想问", 0.2}, {"问一下", 0.1},
    {"一下", 0.2}, {"麻烦", 0.3}, {"谢谢", 0.1}, {"那个", 0.3}, {"这个", 0.4}, {"就是", 0.3},
    {"的", 0.3},   {"了", 0.4},   {"吗", 0.3},   {"呢", 0.3},   {"吧", 0.3},   {"啊", 0.2},
    {"呀", 0.2},   {"哦", 0.2},   {"嗯", 0.2},   {"么", 0.5},   {"我", 0.4},   {"你", 0.4},
    {"您", 0.3},   {"请", 0.3},   {"问", 0.5},   {"下", 0.6},   {"是", 0.5},   {"在", 0.6},
    {"我的", 0.3}, {"一个", 0.5}, {"现在", 0.6}, {"可以", 0.7}, {"还是", 0.6}, {"什么", 0.7},
};

}  // namespace

Lexicon::Lexicon() {
  for (const Filler& f : kFillers)
    filler_.emplace(FromUtf8(f.text), f.weight);
}

void Lexicon::AddWord(std::u32string word) {
  if (word.size() < 2) return;
  max_word_length_ = std::max(max_word_length_, word.size());
  words_.insert(std::move(word));
}

void Lexicon::AddSynonym(std::u32string variant, std::u32string canonical) {
  if (variant.empty() || canonical.empty() || variant == canonical) return;
  max_variant_length_ = std::max(max_variant_length_, variant.size());
  if (canonical.size() >= 2) AddWord(canonical);
  synonym_starts_.insert(variant[0]);
  synonyms_[std::move(variant)] = std::move(canonical);
}

double Lexicon::FillerWeight(std::u32string_view token) const {
  auto it = filler_.find(token);
  return it == filler_.end() ? 1.0 : it->second;
}

void Lexicon::ApplySynonyms(std::u32string& chars, std::vector<uint32_t>& begin,
                            std::vector<uint32_t>& end) const {
  if (synonyms_.empty()) return;
  if (std::none_of(chars.begin(), chars.end(),
                   [&](char32_t c) { return synonym_starts_.contains(c); })) {
    return;
  }
  std::u32string out;
  std::vector<uint32_t> out_begin, out_end;
  out.reserve(chars.size());
  size_t i = 0;
  while (i < chars.size()) {
    bool replaced = false;
    const size_t longest =
        synonym_starts_.contains(chars[i]) ? std::min(max_variant_length_, chars.size() - i) : 0;
    for (size_t len = longest; len >= 1 && !replaced; --len) {
      auto it = synonyms_.find(std::u32string_view(chars).substr(i, len));
      if (it == synonyms_.end()) continue;
      for (char32_t c : it->second) {
        out.push_back(c);
        out_begin.push_back(begin[i]);
        out_end.push_back(end[i + len - 1]);
      }
      i += len;
      replaced = true;
    }
    if (!replaced) {
      out.push_back(chars[i]);
      out_begin.push_back(begin[i]);
      out_end.push_back(end[i]);
      ++i;
    }
  }
  chars = std::move(out);
  begin = std::move(out_begin);
  end = std::move(out_end);
}

uint8_t QuestionTypeOf(std::u32string_view text) {
  struct Cue {
    const char32_t* text;
    uint8_t bit;
  };
  static const Cue kCues[] = {{U"为什么", 1},    {U"为何", 1},   {U"怎么会", 1},   {U"怎么回事", 1},
                              {U"凭什么", 1},    {U"怎么", 2},   {U"方法", 2},     {U"流程", 2},
                              {U"步骤", 2},      {U"能不能", 4}, {U"可不可以", 4}, {U"是不是", 4},
                              {U"吗", 4},        {U"有没有", 4}, {U"是否", 4},     {U"多少", 8},
                              {U"多久", 8},      {U"几", 8},     {U"多大", 8},     {U"多高", 8},
                              {U"什么时候", 16}, {U"哪天", 16},  {U"几号", 16},    {U"何时", 16},
                              {U"哪里", 32},     {U"在哪", 32},  {U"哪儿", 32},    {U"哪个", 32}};
  uint8_t mask = 0;
  for (const Cue& c : kCues) {
    if (text.find(c.text) != std::u32string_view::npos) mask |= c.bit;
  }
  if ((mask & 1) != 0) mask &= static_cast<uint8_t>(~2);  // 为什么 contains no 怎么, 怎么会 does
  return mask;
}

bool IsNegated(std::u32string_view text) {
  for (char32_t c : text) {
    if (c == U'不' || c == U'没' || c == U'无' || c == U'未' || c == U'别') return true;
  }
  return false;
}

std::vector<LearnedWord> LearnVocabulary(const std::vector<std::u32string>& texts,
                                         const VocabularyOptions& options) {
  // Han runs only; other characters are boundaries. 0 marks a boundary neighbour.
  std::vector<std::u32string> runs;
  for (const std::u32string& t : texts) {
    std::u32string run;
    for (char32_t c : t) {
      if (IsHan(c)) {
        run.push_back(c);
      } else if (!run.empty()) {
        runs.push_back(std::move(run));
        run.clear();
      }
    }
    if (!run.empty()) runs.push_back(std::move(run));
  }
  const size_t max_len = options.max_length;
  // n-gram counts for n = 1..max_len, and neighbour counts for the candidates.
  std::unordered_map<std::u32string, int> counts;
  std::vector<double> total(max_len + 1, 0.0);
  for (const std::u32string& r : runs) {
    for (size_t i = 0; i < r.size(); ++i) {
      for (size_t n = 1; n <= max_len && i + n <= r.size(); ++n) {
        ++counts[r.substr(i, n)];
        total[n] += 1;
      }
    }
  }
  const int min_count = std::max(
      options.min_count,
      static_cast<int>(std::ceil(static_cast<double>(texts.size()) * options.min_count_per_text)));
  struct Neighbours {
    std::map<char32_t, int> left, right;
    int left_boundary = 0, right_boundary = 0;
  };
  std::unordered_map<std::u32string, Neighbours> neighbours;
  for (const auto& [gram, count] : counts) {
    if (gram.size() >= options.min_length && count >= min_count) neighbours[gram];
  }
  for (const std::u32string& r : runs) {
    for (size_t i = 0; i < r.size(); ++i) {
      for (size_t n = options.min_length; n <= max_len && i + n <= r.size(); ++n) {
        auto it = neighbours.find(r.substr(i, n));
        if (it == neighbours.end()) continue;
        if (i == 0) {
          ++it->second.left_boundary;
        } else {
          ++it->second.left[r[i - 1]];
        }
        if (i + n == r.size()) {
          ++it->second.right_boundary;
        } else {
          ++it->second.right[r[i + n]];
        }
      }
    }
  }
  auto entropy = [](const std::map<char32_t, int>& m, int boundary) {
    double sum = boundary;
    for (const auto& [c, k] : m)
      sum += k;
    if (sum <= 0) return 0.0;
    double h = 0;
    for (const auto& [c, k] : m) {
      const double p = k / sum;
      h -= p * std::log(p);
    }
    // Each boundary occurrence is a distinct neighbour: it adds freedom, not a single symbol.
    if (boundary > 0) h -= boundary * (1.0 / sum) * std::log(1.0 / sum);
    return h;
  };
  auto prob = [&](const std::u32string& g) {
    auto it = counts.find(g);
    return it == counts.end() ? 1e-12 : it->second / total[g.size()];
  };
  std::vector<LearnedWord> words;
  for (const auto& [gram, nb] : neighbours) {
    const double pw = prob(gram);
    double min_pmi = 1e9;
    for (size_t split = 1; split < gram.size(); ++split) {
      const double pmi = std::log(pw / (prob(gram.substr(0, split)) * prob(gram.substr(split))));
      min_pmi = std::min(min_pmi, pmi);
    }
    const double be =
        std::min(entropy(nb.left, nb.left_boundary), entropy(nb.right, nb.right_boundary));
    if (min_pmi < options.min_pmi || be < options.min_boundary_entropy) continue;
    words.push_back({gram, counts[gram], min_pmi, be});
  }
  std::sort(words.begin(), words.end(), [](const LearnedWord& a, const LearnedWord& b) {
    return a.count != b.count ? a.count > b.count : a.word < b.word;
  });
  if (words.size() > options.max_words) words.resize(options.max_words);
  return words;
}

}  // namespace kefu::knowledge
