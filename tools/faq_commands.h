// kefuctl faq import|export|match|eval (tools/faq_commands.cc): the FAQ base from the command line.
//
//   kefuctl faq import FILE [--format jsonl|csv] [--dry-run]
//       imports FAQs (JSONL or CSV, see knowledge/faq_io.h; format from the extension by default).
//       Existing ids are replaced, bad lines are reported as "line N: reason" and skipped; good
//       lines still import. Exit 0 when every line imported, 1 when some lines were rejected.
//       --json: {"imported", "created", "updated", "errors": [{"line", "reason"}], "dry_run"}
//       A running kefud picks the change up within [knowledge] refresh_interval_s (it polls the
//       knowledge tables' generation and rebuilds its matcher in the background); REST changes
//       (POST /api/v1/faqs/import) are live when the response arrives.
//   kefuctl faq export [--format jsonl|csv] [--out FILE]      every FAQ, in id order
//   kefuctl faq match "问题" [-k 5]
//       the top-k FAQs with confidence ([knowledge] matcher options, the stored dictionary and
//       synonyms), for admins testing their FAQ base (--json:
//       {"query", "matches": [{"faq_id", "question", "matched_question", "score", "confidence"}]})
//   kefuctl faq eval --faq FAQ.jsonl --queries Q.jsonl [--adjudicated A.jsonl] [--json]
//       loads the FAQ file into a fresh temporary store and prints one JSON object:
//       strict_top1, strict_recall5, strict_mrr10, adj_top1, adj_recall5, adj_unjudged_top1,
//       queries, p50_us, p99_us, qps (file formats: shared/data/faq-dev/README.md).
//   kefuctl faq dict add|remove WORD, faq dict list
//   kefuctl faq synonym add VARIANT CANONICAL, faq synonym remove VARIANT, faq synonym list
//       the admin dictionary and synonyms (normalised like FAQ text; --json prints the stored
//       entry or {"words"} / {"synonyms": [{"variant", "canonical"}]}); a running kefud picks
//       them up within refresh_interval_s. Removing an absent entry fails (exit 1, not found).
// Builds without the knowledge module register no faq verbs.
#pragma once

#include <CLI/CLI.hpp>

#include "tools/command.h"

namespace kefu::tools {

void RegisterFaqCommands(CLI::App& kefuctl, CommandContext& ctx);

}  // namespace kefu::tools
