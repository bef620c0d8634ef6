//! CLAP remote-control pages (the eight knobs a Bitwig user gets on a controller or in
//! the device panel): a collector that records the pages a plugin declares, and the
//! checks both plugins' tests run on them.

use std::collections::BTreeSet;

use nice_plug::prelude::{
    Param, ParamFlags, Params, RemoteControlsContext, RemoteControlsPage, RemoteControlsSection,
};

/// The knobs on one page, as hosts show them.
pub const KNOBS_PER_PAGE: usize = 8;

/// The pages a plugin declares: (section, page, parameter names).
#[derive(Debug, Default)]
pub struct PageCollector {
    pub pages: Vec<(String, String, Vec<String>)>,
}

#[derive(Default)]
pub struct SectionCollector {
    pages: Vec<(String, Vec<String>)>,
}

#[derive(Default)]
pub struct PageContents {
    params: Vec<String>,
}

impl RemoteControlsContext for PageCollector {
    type Section = SectionCollector;

    fn add_section(&mut self, name: impl Into<String>, f: impl FnOnce(&mut Self::Section)) {
        let name = name.into();
        let mut section = SectionCollector::default();
        f(&mut section);
        for (page, params) in section.pages {
            self.pages.push((name.clone(), page, params));
        }
    }
}

impl RemoteControlsSection for SectionCollector {
    type Page = PageContents;

    fn add_page(&mut self, name: impl Into<String>, f: impl FnOnce(&mut Self::Page)) {
        let mut page = PageContents::default();
        f(&mut page);
        self.pages.push((name.into(), page.params));
    }
}

impl RemoteControlsPage for PageContents {
    fn add_param(&mut self, param: &impl Param) {
        self.params.push(param.name().to_owned());
    }

    fn add_spacer(&mut self) {
        self.params.push(String::new());
    }
}

/// What is wrong with `pages` for `params`: a page with more than eight knobs (the host
/// would split it), a parameter on two pages, or an automatable parameter on none
/// (other than `except`, by name: the bypass, which hosts show on their own).
pub fn page_problems(params: &impl Params, pages: &PageCollector, except: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut placed = BTreeSet::new();
    for (section, page, names) in &pages.pages {
        if names.len() > KNOBS_PER_PAGE {
            problems.push(format!("{section} / {page}: {} knobs", names.len()));
        }
        for name in names.iter().filter(|n| !n.is_empty()) {
            if !placed.insert(name.clone()) {
                problems.push(format!("{name} is on more than one page"));
            }
        }
    }
    for (_, ptr, _) in params.param_map() {
        // SAFETY: the pointer comes from `params`, alive for this call.
        let (name, flags) = unsafe { (ptr.name().to_owned(), ptr.flags()) };
        if flags.contains(ParamFlags::NON_AUTOMATABLE) || except.contains(&name.as_str()) {
            continue;
        }
        if !placed.contains(&name) {
            problems.push(format!("{name} is on no page"));
        }
    }
    problems
}
