//! The shared page frame: header with the partner and month picker, the
//! navigation, and the footer. Every page is `layout(&frame, body)`.

use maud::{DOCTYPE, Markup, html};

use super::view::{Sel, enc, partner_href};

/// The navigation tabs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tab {
    /// The partner picker and the scorecard.
    Overview,
    /// Metric detail.
    Metrics,
    /// Customers.
    Customers,
    /// Skilling.
    Skilling,
    /// History.
    History,
    /// Simulator.
    Simulator,
    /// Data upload.
    Upload,
    /// None highlighted (errors, login).
    None,
}

/// The partner tabs: label, path under `/partners/{id}/`, tab.
const PARTNER_TABS: [(&str, &str, Tab); 6] = [
    ("Summary", "", Tab::Overview),
    ("Metrics", "metrics", Tab::Metrics),
    ("Customers", "customers", Tab::Customers),
    ("Skilling", "skilling", Tab::Skilling),
    ("History", "history", Tab::History),
    ("Simulator", "simulate", Tab::Simulator),
];

/// What the frame around a page shows.
#[derive(Clone, Debug)]
pub(crate) struct Frame {
    /// The `<title>` (without the product name).
    pub title: String,
    /// The highlighted tab.
    pub tab: Tab,
    /// The partner shown: id and name.
    pub partner: Option<(String, Option<String>)>,
    /// The month or date selected.
    pub sel: Sel,
    /// The month scored (M).
    pub month: pcs_core::calendar::Month,
    /// Whether the upload tab is offered (the caller sees every partner).
    pub can_upload: bool,
    /// Whether the server runs with `--auth` (then a logout button shows).
    pub auth: bool,
    /// The CSRF token of this request's forms ([`crate::csrf`]).
    pub csrf: String,
    /// The solution area page shown (`None`: the summary, or a page of
    /// Business Applications' reports).
    pub area: Option<&'static str>,
    /// The solution areas and their titles, for the area switch.
    pub areas: Vec<(&'static str, String)>,
}

/// The link to a partner's page of one solution area.
pub(crate) fn area_href(partner: &str, area: &str, sel: Sel) -> String {
    partner_href(partner, &format!("areas/{}", enc(area)), sel)
}

/// The area switch: the summary of every area, then each area's page.
fn area_switch(f: &Frame, partner: &str) -> Markup {
    let summary = f.area.is_none() && f.tab == Tab::Overview;
    html! {
        nav.areas aria-label="Solution areas" {
            ul {
                li {
                    a href=(partner_href(partner, "", f.sel)) data-area="summary"
                        aria-current=[summary.then_some("page")] { "All areas" }
                }
                @for (id, title) in &f.areas {
                    li {
                        a href=(area_href(partner, id, f.sel)) data-area=(id)
                            aria-current=[(f.area == Some(*id)).then_some("page")] { (title) }
                    }
                }
            }
        }
    }
}

/// Wraps a page body in the document, header, navigation and footer.
pub(crate) fn layout(f: &Frame, body: Markup) -> Markup {
    let partner_id = f.partner.as_ref().map(|(id, _)| id.as_str());
    // A page asked for by date shows the month it scores; choosing a month scores that month.
    let month_value = f.month.to_string();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (f.title) " · pcs" }
                link rel="stylesheet" href=(super::assets::STYLE_HREF.as_str());
                link rel="icon" href=(super::assets::ICON_HREF.as_str()) type="image/svg+xml";
                script src=(super::assets::SCRIPT_HREF.as_str()) defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    div.inner {
                        a.brand href=(format!("/?{}", f.sel.query())) {
                            "pcs" small { "Partner Capability Score" }
                        }
                        form.picker method="get" action="/partners" role="search" aria-label="Choose a partner and a month" {
                            label {
                                "Partner"
                                input #partner-q type="search" name="partner"
                                    value=(partner_id.unwrap_or(""))
                                    placeholder="id or name" autocomplete="off"
                                    list="partner-options" aria-describedby="partner-hint";
                            }
                            datalist #partner-options {}
                            label {
                                "Month"
                                input type="month" name="month" value=(month_value) required
                                    pattern="[0-9]{4}-[0-9]{2}";
                            }
                            button type="submit" { "Open" }
                            span #partner-hint hidden { "Type a partner id or part of a name" }
                        }
                        @if f.auth {
                            form method="post" action="/logout" {
                                input type="hidden" name=(crate::csrf::FIELD) value=(f.csrf);
                                button.secondary type="submit" { "Log out" }
                            }
                        }
                    }
                }
                nav.tabs aria-label="Pages" {
                    ul {
                        @for (label, path, tab) in PARTNER_TABS {
                            li {
                                @match partner_id {
                                    Some(id) => {
                                        a href=(partner_href(id, path, f.sel))
                                            aria-current=[(f.tab == tab).then_some("page")] { (label) }
                                    }
                                    None if tab == Tab::Overview => {
                                        a href=(format!("/?{}", f.sel.query()))
                                            aria-current=[(f.tab == tab).then_some("page")] { (label) }
                                    }
                                    None => {
                                        span.off title="Choose a partner first" { (label) }
                                    }
                                }
                            }
                        }
                        @if f.can_upload {
                            li {
                                a href=(upload_href(partner_id, f.sel))
                                    aria-current=[(f.tab == Tab::Upload).then_some("page")] { "Upload" }
                            }
                        }
                    }
                }
                @if let Some(id) = partner_id {
                    @if !f.areas.is_empty() { (area_switch(f, id)) }
                }
                main #main {
                    (body)
                }
                footer.foot {
                    "pcs computes Microsoft's Partner Capability Score for the six Solutions Partner designations from the data in this server's dataset directory. "
                    "The same numbers are served as JSON under "
                    a href="/api/v1/openapi.json" { "/api/v1" }
                    "."
                }
            }
        }
    }
}

fn upload_href(partner: Option<&str>, sel: Sel) -> String {
    match partner {
        Some(p) => format!("/upload?partner={}&{}", enc(p), sel.query()),
        None => format!("/upload?{}", sel.query()),
    }
}

/// The login page in the dashboard's frame: posts a token to `/login`.
pub fn login_page(error: Option<&str>, next: Option<&str>, csrf: &str) -> String {
    let body = html! {
        div.panel.narrow {
            h1 { "Log in" }
            p.sub { "This server needs an access token. Ask its administrator for one scoped to your partner, or to all partners." }
            @if let Some(e) = error {
                div.msg.err role="alert" { (e) }
            }
            form method="post" action="/login" {
                input type="hidden" name=(crate::csrf::FIELD) value=(csrf);
                label.f {
                    "Token"
                    input #token name="token" type="password" autocomplete="off" required autofocus;
                }
                input type="hidden" name="next" value=(next.unwrap_or("/"));
                p { button type="submit" { "Log in" } }
            }
        }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Log in · pcs" }
                link rel="stylesheet" href=(super::assets::STYLE_HREF.as_str());
                link rel="icon" href=(super::assets::ICON_HREF.as_str()) type="image/svg+xml";
            }
            body {
                header.top { div.inner { span.brand { "pcs" small { "Partner Capability Score" } } } }
                main #main { (body) }
            }
        }
    }
    .into_string()
}

/// The page of a login refused by the rate limit.
pub fn login_limited_page(wait_seconds: u64) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Too many attempts · pcs" }
                link rel="stylesheet" href=(super::assets::STYLE_HREF.as_str());
            }
            body {
                main #main {
                    div.panel.narrow {
                        h1 { "Too many attempts" }
                        div.msg.err role="alert" { "Too many login attempts from this address: try again in " (wait_seconds) " s." }
                        p { a href="/login" { "Back to the login page" } }
                    }
                }
            }
        }
    }
    .into_string()
}

/// A note rendered when a page has nothing to show.
pub(crate) fn empty(text: &str) -> Markup {
    html! { p.mut { (text) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(partner: Option<&str>) -> Frame {
        Frame {
            title: "T <x>".into(),
            tab: Tab::Customers,
            partner: partner.map(|p| (p.to_string(), Some("Name & Co".into()))),
            sel: Sel::Month("2023-11".parse().unwrap()),
            month: "2023-11".parse().unwrap(),
            can_upload: false,
            auth: false,
            csrf: "t0k3n".into(),
            area: None,
            areas: vec![
                ("business_applications", "Business Applications".into()),
                ("modern_work", "Modern Work".into()),
            ],
        }
    }

    #[test]
    fn the_area_switch_links_every_area_and_marks_the_one_shown() {
        let mut f = frame(Some("P1"));
        f.area = Some("modern_work");
        let html = layout(&f, html! {}).into_string();
        assert!(
            html.contains(r#"href="/partners/P1?month=2023-11" data-area="summary">All areas"#),
            "{html}"
        );
        assert!(
            html.contains(r#"href="/partners/P1/areas/modern_work?month=2023-11" data-area="modern_work" aria-current="page">Modern Work"#),
            "{html}"
        );
        assert!(html.contains(
            r#"href="/partners/P1/areas/business_applications?month=2023-11" data-area="business_applications">"#
        ));
        // No partner: no area switch.
        let html = layout(&frame(None), html! {}).into_string();
        assert!(!html.contains("data-area="), "{html}");
    }

    #[test]
    fn the_frame_escapes_and_links_every_tab_with_the_month() {
        let html = layout(&frame(Some("10\"01")), html! { p { "body" } }).into_string();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<title>T &lt;x&gt; · pcs</title>"), "{html}");
        assert!(
            html.contains(
                r#"href="/partners/10%2201/customers?month=2023-11" aria-current="page""#
            ),
            "{html}"
        );
        assert!(html.contains(r#"href="/partners/10%2201/history?month=2023-11""#));
        assert!(html.contains(r#"value="10&quot;01""#), "{html}");
        assert!(html.contains(r#"type="month" name="month" value="2023-11""#));
        assert!(!html.contains("Upload"));
        assert!(!html.contains("Log out"));
    }

    #[test]
    fn without_a_partner_the_partner_tabs_are_disabled() {
        let mut f = frame(None);
        f.can_upload = true;
        f.auth = true;
        let html = layout(&f, html! {}).into_string();
        assert!(
            html.contains(r#"<span class="off" title="Choose a partner first">Customers</span>"#),
            "{html}"
        );
        assert!(html.contains(r#"href="/upload?month=2023-11""#));
        assert!(html.contains("Log out"));
        assert!(
            html.contains(r#"<input type="hidden" name="csrf" value="t0k3n">"#),
            "{html}"
        );
    }

    #[test]
    fn the_login_page_escapes_the_next_path() {
        let html = login_page(Some("bad <token>"), Some("/x\"><script>"), "t0k3n");
        assert!(html.contains(r#"name="csrf" value="t0k3n""#), "{html}");
        assert!(html.contains("bad &lt;token&gt;"));
        assert!(
            html.contains(r#"value="/x&quot;&gt;&lt;script&gt;""#),
            "{html}"
        );
    }
}
