//! The HTML report: one self-contained file (inline CSS and pictures, no scripts, nothing
//! fetched) that a person reads top-down: fleet verdicts, a host-by-layer map, then each
//! suspect or failing host with its findings and pictures.

use crate::audit_cmd::Outcome;
use base64::Engine as _;
use std::fmt::Write;
use tamperscan_model::{Finding, Layer, Verdict};
use tamperscan_store::rfc3339;

const CSS: &str = r#"
:root { --pass:#1a7f37; --suspect:#b7791f; --fail:#c62828; --ink:#1f2328; --muted:#656d76; --line:#d0d7de; --bg:#f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); margin: 0; }
header { background: #0d1117; color: #fff; padding: 20px 32px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header .meta { color: #9da7b3; font-size: 13px; }
.synthetic { background: #6f42c1; color: #fff; border-radius: 4px; padding: 1px 8px; font-size: 12px; margin-left: 8px; vertical-align: middle; }
main { padding: 24px 32px; max-width: 1200px; }
h2 { font-size: 18px; border-bottom: 1px solid var(--line); padding-bottom: 4px; margin-top: 32px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 120px; background: var(--bg); }
.card .n { font-size: 26px; font-weight: 700; }
.card.pass .n { color: var(--pass); } .card.suspect .n { color: var(--suspect); } .card.fail .n { color: var(--fail); }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--bg); }
td.num { text-align: center; }
.v { font-weight: 700; text-transform: uppercase; font-size: 12px; border-radius: 4px; padding: 1px 6px; color: #fff; }
.v.pass { background: var(--pass); } .v.suspect { background: var(--suspect); } .v.fail { background: var(--fail); }
.cell-low, .cell-medium { background: #fff4d6; } .cell-high, .cell-critical { background: #ffe0e0; font-weight: 700; }
.host { border: 1px solid var(--line); border-radius: 8px; margin: 16px 0; padding: 4px 16px 12px; }
.host h3 { margin: 10px 0; font-size: 16px; }
.finding { border-left: 4px solid var(--line); padding: 6px 12px; margin: 10px 0; background: var(--bg); }
.finding.low { border-color: #0969da; } .finding.medium { border-color: var(--suspect); }
.finding.high, .finding.critical { border-color: var(--fail); }
.finding .kind { font-family: ui-monospace, monospace; font-size: 13px; color: var(--muted); }
.sev { font-size: 12px; font-weight: 700; text-transform: uppercase; margin-right: 6px; }
.new { background: #0969da; color: #fff; font-size: 11px; border-radius: 4px; padding: 0 5px; margin-left: 6px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 6px 0 0; font-size: 13px; }
dt { color: var(--muted); } dd { margin: 0; font-family: ui-monospace, monospace; word-break: break-all; }
figure { margin: 10px 0; } figure img { max-width: 100%; border: 1px solid var(--line); }
figcaption { font-size: 13px; color: var(--muted); }
details { margin: 8px 0; } summary { cursor: pointer; color: var(--muted); }
.muted { color: var(--muted); }
"#;

/// Renders the report.
pub fn render(outcome: &Outcome) -> String {
    let audit = &outcome.audit;
    let mut h = String::with_capacity(16 * 1024);
    let count = |v: Verdict| audit.hosts.iter().filter(|x| x.verdict == v).count();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>tamperscan audit: {}</title><style>{CSS}</style></head><body>",
        esc(&audit.fleet)
    );
    let _ = write!(
        h,
        "<header><h1>Fleet audit: {}{}</h1><div class=\"meta\">tamperscan {} &middot; {} &middot; finished {}{}</div></header><main>",
        esc(&audit.fleet),
        if audit.synthetic { "<span class=\"synthetic\">SYNTHETIC DEMO</span>" } else { "" },
        env!("CARGO_PKG_VERSION"),
        esc(&outcome.root.display().to_string()),
        rfc3339(outcome.finished_at),
        outcome.audit_id.map(|id| format!(" &middot; audit #{id}")).unwrap_or_default(),
    );

    let new_count = outcome.since.as_ref().map(|s| s.new.len());
    let _ = write!(
        h,
        "<section class=\"cards\">{}{}{}{}{}{}</section>",
        card("", "hosts", audit.hosts.len()),
        card("pass", "pass", count(Verdict::Pass)),
        card("suspect", "suspect", count(Verdict::Suspect)),
        card("fail", "fail", count(Verdict::Fail)),
        card("", "findings", audit.findings.len()),
        new_count
            .map(|n| card("", "new since last audit", n))
            .unwrap_or_default(),
    );
    h.push_str(&verdict_bar(
        count(Verdict::Pass),
        count(Verdict::Suspect),
        count(Verdict::Fail),
    ));

    h.push_str("<h2>Hosts by layer</h2><table><tr><th>host</th><th>model</th><th>verdict</th>");
    for layer in Layer::ALL {
        let _ = write!(h, "<th>{}</th>", layer.name());
    }
    h.push_str("</tr>");
    for host in &audit.hosts {
        let _ = write!(
            h,
            "<tr><td><a href=\"#host-{}\">{}</a></td><td>{}</td><td><span class=\"v {}\">{}</span></td>",
            anchor(&host.id.0),
            esc(&host.id.0),
            esc(host.model.as_deref().unwrap_or("-")),
            host.verdict.name(),
            host.verdict.name()
        );
        for layer in Layer::ALL {
            let worst = audit
                .findings
                .iter()
                .filter(|f| f.host == host.id && f.layer == layer)
                .map(|f| f.severity)
                .max();
            match (host.findings_by_layer.get(&layer), worst) {
                (Some(n), Some(sev)) => {
                    let _ = write!(h, "<td class=\"num cell-{}\">{n}</td>", sev.name());
                }
                _ => h.push_str("<td class=\"num muted\">&middot;</td>"),
            }
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>");

    h.push_str("<h2>Findings</h2>");
    if audit.findings.is_empty() {
        h.push_str("<p>No findings: every host matches its references and its siblings.</p>");
    }
    for host in audit.hosts.iter().filter(|x| x.verdict != Verdict::Pass) {
        let _ = write!(
            h,
            "<section class=\"host\" id=\"host-{}\"><h3>{} <span class=\"v {}\">{}</span> <span class=\"muted\">{}</span></h3>",
            anchor(&host.id.0),
            esc(&host.id.0),
            host.verdict.name(),
            host.verdict.name(),
            esc(host.model.as_deref().unwrap_or("no model"))
        );
        for f in audit.findings.iter().filter(|f| f.host == host.id) {
            finding_html(&mut h, f, outcome.is_new(&f.fingerprint()) == Some(true));
        }
        if !host.evidence.is_empty() {
            let _ = write!(h, "<details><summary>{} evidence files</summary><table><tr><th>path</th><th>format</th><th>bytes</th><th>sha256</th></tr>", host.evidence.len());
            for e in &host.evidence {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                    esc(&e.path),
                    esc(&e.format),
                    e.size,
                    esc(e.sha256.as_deref().unwrap_or("not read"))
                );
            }
            h.push_str("</table></details>");
        }
        h.push_str("</section>");
    }
    let passing: Vec<&str> = audit
        .hosts
        .iter()
        .filter(|x| x.verdict == Verdict::Pass)
        .map(|x| x.id.0.as_str())
        .collect();
    if !passing.is_empty() {
        let _ = write!(
            h,
            "<p class=\"muted\">Passing hosts: {}</p>",
            esc(&passing.join(", "))
        );
    }

    if let Some(since) = &outcome.since {
        let _ = write!(
            h,
            "<h2>Since audit #{} ({})</h2><p>{} new findings, {} resolved, {} evidence files changed.</p>",
            since.previous_id,
            esc(&since.previous_at),
            since.new.len(),
            since.resolved.len(),
            since.changed_evidence.len()
        );
        if !since.resolved.is_empty() {
            h.push_str("<table><tr><th>host</th><th>resolved finding</th><th>severity</th><th>summary</th></tr>");
            for r in &since.resolved {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&r.host),
                    esc(&r.kind),
                    esc(&r.severity),
                    esc(&r.summary)
                );
            }
            h.push_str("</table>");
        }
        if !since.changed_evidence.is_empty() {
            h.push_str("<table><tr><th>host</th><th>evidence</th><th>before</th><th>now</th></tr>");
            for c in &since.changed_evidence {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
                    esc(&c.host),
                    esc(&c.path),
                    esc(c.before.as_deref().unwrap_or("absent")),
                    esc(c.after.as_deref().unwrap_or("absent"))
                );
            }
            h.push_str("</table>");
        }
    }
    if !audit.notes.is_empty() {
        let _ = write!(h, "<h2>Not read</h2><details><summary>{} files or directories were not read</summary><table>", audit.notes.len());
        for n in &audit.notes {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td></tr>",
                esc(&n.path),
                esc(&n.message)
            );
        }
        h.push_str("</table></details>");
    }
    h.push_str("</main></body></html>\n");
    h
}

fn finding_html(h: &mut String, f: &Finding, new: bool) {
    let _ = write!(
        h,
        "<div class=\"finding {}\"><span class=\"sev\">{}</span>{}{}<div class=\"kind\">{} &middot; {}</div><dl>",
        f.severity.name(),
        f.severity.name(),
        esc(&f.summary),
        if new { "<span class=\"new\">NEW</span>" } else { "" },
        esc(&f.kind),
        f.layer.name()
    );
    if let Some(e) = &f.expected {
        let _ = write!(h, "<dt>expected</dt><dd>{}</dd>", esc(e));
    }
    if let Some(o) = &f.observed {
        let _ = write!(h, "<dt>observed</dt><dd>{}</dd>", esc(o));
    }
    if let Some(file) = &f.location.file {
        let _ = write!(h, "<dt>file</dt><dd>{}</dd>", esc(file));
    }
    if !f.location.at.is_empty() {
        let _ = write!(h, "<dt>at</dt><dd>{}</dd>", esc(&f.location.at));
    }
    let _ = write!(
        h,
        "<dt>reference</dt><dd>{}</dd></dl>",
        esc(&f.reference.to_string())
    );
    for p in &f.pictures {
        // Only image types a browser renders safely inline; SVG is embedded as an <img>, which
        // never runs its scripts.
        if !matches!(
            p.media_type.as_str(),
            "image/png" | "image/jpeg" | "image/svg+xml"
        ) {
            continue;
        }
        let data = base64::engine::general_purpose::STANDARD.encode(&p.data);
        let _ = write!(
            h,
            "<figure><img alt=\"{}\" src=\"data:{};base64,{data}\"><figcaption>{}</figcaption></figure>",
            esc(&p.caption),
            p.media_type,
            esc(&p.caption)
        );
    }
    h.push_str("</div>");
}

fn card(class: &str, label: &str, n: usize) -> String {
    format!(
        "<div class=\"card {class}\"><div class=\"n\">{n}</div>{}</div>",
        esc(label)
    )
}

/// A stacked bar of host verdicts as inline SVG.
fn verdict_bar(pass: usize, suspect: usize, fail: usize) -> String {
    let total = (pass + suspect + fail).max(1) as f64;
    let mut x = 0.0;
    let mut svg = String::from("<svg role=\"img\" aria-label=\"host verdicts\" width=\"100%\" height=\"18\" viewBox=\"0 0 1000 18\" preserveAspectRatio=\"none\" style=\"margin-top:12px\">");
    for (n, color) in [(pass, "#1a7f37"), (suspect, "#b7791f"), (fail, "#c62828")] {
        let w = 1000.0 * n as f64 / total;
        if n > 0 {
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"0\" width=\"{w:.1}\" height=\"18\" fill=\"{color}\"/>"
            );
        }
        x += w;
    }
    svg.push_str("</svg>");
    svg
}

fn anchor(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tamperscan_model::Severity;

    #[test]
    fn escapes_markup_from_evidence() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }

    #[test]
    fn pictures_are_embedded_and_unsafe_types_dropped() {
        use tamperscan_model::{HostId, Location, Picture, Reference};
        let mut f = Finding {
            host: HostId("h".into()),
            layer: Layer::Board,
            kind: "board.component_added".into(),
            severity: Severity::High,
            summary: "extra part".into(),
            expected: None,
            observed: None,
            location: Location::default(),
            reference: Reference::Fleet,
            pictures: vec![Picture {
                caption: "overlay".into(),
                media_type: "image/png".into(),
                data: vec![1, 2, 3],
            }],
        };
        let mut h = String::new();
        finding_html(&mut h, &f, true);
        assert!(h.contains("src=\"data:image/png;base64,AQID\""), "{h}");
        assert!(h.contains("<figcaption>overlay</figcaption>"));
        assert!(h.contains("NEW"));
        f.pictures[0].media_type = "text/html".into();
        let mut h = String::new();
        finding_html(&mut h, &f, false);
        assert!(!h.contains("<img"));
    }
}
