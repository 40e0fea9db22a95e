//! Which source files a paper's experiments run, and their hash: the cache key's code version.
//!
//! Shared by `build.rs` (which bakes the hashes into the crate) and the cache-key test. For paper
//! `P` the inputs are, and are only:
//! - every `.rs` file under `crates/lab/src/P/experiments/` and `crates/lab/src/experiment.rs`
//!   (the run helpers every experiment shares), but never `claims/` or anything in `crates/figures`;
//! - for every workspace crate those files name (`attnlab_x` → `crates/x`), and every workspace crate
//!   that one depends on (its `[dependencies]`, transitively): its `Cargo.toml`, `build.rs` and every
//!   `.rs` file under its `src/`;
//! - of `Cargo.lock`, the entries of the packages those crates and the lab crate itself build on
//!   (a dependency bump can move numbers), found by walking the lock's own dependency lists; a
//!   dependency added or bumped only for the figures (a font library, say) reruns nothing.
//!
//! So editing a caption, a colour or a claim's tolerance reruns no experiment, and editing one
//! paper's experiment or theory reruns only the papers whose experiments run that code.
//!
//! A file is hashed by what the compiler sees, not by its bytes ([`canonical`]): Rust sources as
//! their token stream without comments, doc comments (`#[doc]` attributes) and `#[cfg(test)]`
//! items, whitespace normalised; manifests without comment and blank lines. So a comment, a
//! reformatting or a new unit test changes no key; a new item, even an unused one, does.
//!
//! A [`UNITS`] entry keys a unit of work run with many configs (one Markov training run) more
//! narrowly: its own file and the crates it names (with their dependencies) and `Cargo.lock` —
//! not its paper's other experiment files, whose edits (a figure's grid, seeds) cannot move the
//! numbers of a run whose whole config is in its key.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The papers: every folder `crates/lab/src/<paper>/` that has an `experiments/` folder, sorted.
pub fn papers(root: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root.join("crates/lab/src"))
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().join("experiments").is_dir())
                .filter_map(|e| e.file_name().to_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Workspace crates (folder names under `crates/`) named as `attnlab_<name>` in `text`.
fn named_crates(root: &Path, text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("attnlab_") {
        let tail = &rest[i + "attnlab_".len()..];
        let name: String = tail.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        let dir = name.replace('_', "-");
        if !name.is_empty() && root.join("crates").join(&dir).join("Cargo.toml").is_file() {
            out.insert(dir);
        }
        rest = tail;
    }
    out
}

/// The `attnlab-*` crates listed under `[dependencies]` of `crates/<name>/Cargo.toml`.
fn dependencies(root: &Path, name: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(root.join("crates").join(name).join("Cargo.toml")).unwrap_or_default();
    let mut out = BTreeSet::new();
    let mut in_deps = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
        } else if let Some(dep) = line.strip_prefix("attnlab-").filter(|_| in_deps) {
            let dep: String = dep.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
            if root.join("crates").join(&dep).join("Cargo.toml").is_file() {
                out.insert(dep);
            }
        }
    }
    out
}

/// A unit keyed on its own: its name, the one file that computes it (relative to the root), and
/// the files of the crates it runs that a run of it never executes, each with the reason (the
/// cache-key test checks that no file of the unit names what they define).
pub struct Unit {
    /// The experiment id it is cached under.
    pub name: &'static str,
    /// The file that computes it.
    pub file: &'static str,
    /// (file, why a run never executes it).
    pub never_run: &'static [(&'static str, &'static str)],
}

/// Units keyed on their own.
pub const UNITS: &[Unit] = &[Unit {
    name: "markov.train.run",
    file: "crates/lab/src/markov/experiments/train/run.rs",
    never_run: &[
        (
            "crates/trainer/src/exact.rs",
            "the exact finite-N loss of the canonical experiments; a training run samples its data",
        ),
        ("crates/trainer/src/bench.rs", "`cargo xtask bench` only"),
        (
            "crates/trainer/src/weights.rs",
            "saving and loading weights (`--save-weights`, `markov eval`): after or outside a run",
        ),
        ("crates/core/src/cache.rs", "stores a finished run's record; cannot change its numbers"),
        ("crates/core/src/io.rs", "atomic file writes of finished records"),
        ("crates/markov/src/canonical.rs", "the canonical (e, w, b) model of the landscape figures"),
        ("crates/markov/src/flow.rs", "gradient flow on the canonical model"),
        ("crates/markov/src/sgd.rs", "SGD on the exact canonical loss"),
    ],
}];

/// Every file the cache key of unit `name` ([`UNITS`]) covers, as paths relative to `root`, sorted:
/// its own file, the crates it names and their dependencies, less the files it never runs.
pub fn unit_inputs(root: &Path, name: &str) -> Vec<String> {
    let Some(unit) = UNITS.iter().find(|u| u.name == name) else { return Vec::new() };
    let mut files = closure(root, vec![root.join(unit.file)]);
    files.retain(|f| !unit.never_run.iter().any(|(n, _)| n == f));
    files
}

/// Every file the cache key of `paper` covers, as paths relative to `root`, sorted.
pub fn inputs(root: &Path, paper: &str) -> Vec<String> {
    let mut files = Vec::new();
    rs_files(&root.join("crates/lab/src").join(paper).join("experiments"), &mut files);
    files.push(root.join("crates/lab/src/experiment.rs"));
    closure(root, files)
}

/// `files`, the workspace crates they name and those crates' dependencies (every source file,
/// manifest and build script), and `Cargo.lock`, relative to `root`, sorted.
fn closure(root: &Path, mut files: Vec<PathBuf>) -> Vec<String> {
    let mut todo: Vec<String> = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(root).unwrap_or(f).to_string_lossy().to_string();
        todo.extend(named_crates(root, &canonical(&rel, &std::fs::read_to_string(f).unwrap_or_default())));
    }
    let mut crates = BTreeSet::new();
    while let Some(c) = todo.pop() {
        if c == "lab" || !crates.insert(c.clone()) {
            continue;
        }
        todo.extend(dependencies(root, &c));
    }
    for c in &crates {
        let dir = root.join("crates").join(c);
        rs_files(&dir.join("src"), &mut files);
        for extra in ["Cargo.toml", "build.rs"] {
            if dir.join(extra).is_file() {
                files.push(dir.join(extra));
            }
        }
    }
    files.push(root.join("Cargo.lock"));
    let mut rel: Vec<String> =
        files.iter().map(|f| f.strip_prefix(root).unwrap_or(f).to_string_lossy().replace('\\', "/")).collect();
    rel.sort();
    rel.dedup();
    rel
}

/// FNV-1a over (relative path, [`canonical`] contents) of every input of `paper`: stable across
/// machines and checkouts, as 16 hex digits.
pub fn hash(root: &Path, paper: &str) -> String {
    hash_files(root, &inputs(root, paper))
}

/// The package name a crate's `Cargo.toml` declares (`name = "…"` under `[package]`).
fn package_name(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package
            && let Some(v) = line.strip_prefix("name").map(str::trim_start).and_then(|l| l.strip_prefix('='))
        {
            return Some(v.trim().trim_matches('"').to_string());
        }
    }
    None
}

/// One `[[package]]` entry of `Cargo.lock`: name, version, source and checksum (empty for a
/// workspace package), and its dependencies as (name, version if the lock names one).
struct LockEntry {
    name: String,
    version: String,
    source: String,
    checksum: String,
    deps: Vec<(String, Option<String>)>,
}

fn lock_entries(lock: &str) -> Vec<LockEntry> {
    let field = |text: &str, key: &str| {
        text.lines()
            .find_map(|l| {
                l.strip_prefix(key)
                    .and_then(|v| v.trim_start().strip_prefix('='))
                    .map(|v| v.trim().trim_matches('"').to_string())
            })
            .unwrap_or_default()
    };
    lock.split("[[package]]")
        .skip(1)
        .map(|text| {
            let deps = text
                .split_once("dependencies = [")
                .map(|(_, rest)| rest.split(']').next().unwrap_or_default())
                .unwrap_or_default()
                .split(',')
                .map(|d| d.trim().trim_matches('"'))
                .filter(|d| !d.is_empty())
                .map(|d| {
                    let mut parts = d.split(' ');
                    (parts.next().unwrap_or_default().to_string(), parts.next().map(String::from))
                })
                .collect();
            LockEntry {
                name: field(text, "name"),
                version: field(text, "version"),
                source: field(text, "source"),
                checksum: field(text, "checksum"),
                deps,
            }
        })
        .collect()
}

/// The part of `Cargo.lock` a key covers: the entries of `roots` (workspace package names) and of
/// every package they depend on, transitively, except workspace packages outside `roots`. Written
/// canonically (sorted by name and version, each dependency as `name version`), so that what the
/// lock leaves implicit — it names a dependency's version only once two versions of it are locked —
/// does not change the key when an unrelated package brings in a second version.
pub fn lock_closure(lock: &str, roots: &BTreeSet<String>) -> String {
    let entries = lock_entries(lock);
    let find = |name: &str, version: Option<&String>| -> Vec<usize> {
        (0..entries.len())
            .filter(|&i| entries[i].name == name && version.is_none_or(|v| *v == entries[i].version))
            .collect()
    };
    let mut keep = vec![false; entries.len()];
    let mut todo: Vec<usize> = roots.iter().flat_map(|r| find(r, None)).collect();
    while let Some(i) = todo.pop() {
        let e = &entries[i];
        if keep[i] || (e.source.is_empty() && !roots.contains(&e.name)) {
            continue;
        }
        keep[i] = true;
        for (n, v) in &e.deps {
            todo.extend(find(n, v.as_ref()));
        }
    }
    let mut kept: Vec<&LockEntry> = entries.iter().zip(keep).filter(|(_, k)| *k).map(|(e, _)| e).collect();
    kept.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    let mut out = String::new();
    for e in kept {
        let deps: Vec<String> = e
            .deps
            .iter()
            .map(|(n, v)| {
                let version = v
                    .clone()
                    .or_else(|| find(n, None).first().map(|&j| entries[j].version.clone()))
                    .unwrap_or_default();
                format!("{n} {version}")
            })
            .collect();
        out.push_str(&format!("{} {} {} {}\n  {}\n", e.name, e.version, e.source, e.checksum, deps.join(", ")));
    }
    out
}

/// The hash of [`hash`] over an already listed set of `inputs` (paths relative to `root`). Of
/// `Cargo.lock` it hashes [`lock_closure`] of the workspace crates among the inputs and the lab
/// crate.
pub fn hash_files(root: &Path, inputs: &[String]) -> String {
    let mut roots: BTreeSet<String> = BTreeSet::from(["attnlab-lab".to_string()]);
    for rel in inputs.iter().filter(|r| r.starts_with("crates/") && r.ends_with("/Cargo.toml")) {
        roots.extend(package_name(&std::fs::read_to_string(root.join(rel)).unwrap_or_default()));
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for rel in inputs {
        let text = std::fs::read_to_string(root.join(rel)).unwrap_or_default();
        let bytes = if rel == "Cargo.lock" {
            lock_closure(&text, &roots).into_bytes()
        } else {
            canonical(rel, &text).into_bytes()
        };
        for b in rel.bytes().chain([0u8]).chain(bytes) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// What the key reads of a file: for a Rust source its token stream without comments, doc comments
/// and `#[cfg(test)]` items (one space between tokens, so formatting changes nothing); for a
/// manifest its lines without comment and blank lines, trimmed. A source that does not parse is
/// hashed as it is (it will not build either).
pub fn canonical(rel: &str, text: &str) -> String {
    if rel.ends_with(".rs") {
        match syn::parse_file(text) {
            Ok(mut file) => {
                syn::visit_mut::VisitMut::visit_file_mut(&mut StripTests, &mut file);
                let tokens: Vec<proc_macro2::TokenTree> = quote::ToTokens::to_token_stream(&file).into_iter().collect();
                let mut out = String::new();
                write(&normalize(tree(&tokens)), &mut out);
                out
            }
            Err(_) => text.to_string(),
        }
    } else if rel.ends_with(".toml") {
        text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect::<Vec<_>>().join("\n")
    } else {
        text.to_string()
    }
}

/// Whether `attrs` hold `#[cfg(test)]` (exactly: `cfg(not(test))` code is built and runs).
fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("cfg") && a.parse_args::<syn::Ident>().is_ok_and(|i| i == "test"))
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    use syn::Item;
    match item {
        Item::Const(i) => &i.attrs,
        Item::Enum(i) => &i.attrs,
        Item::ExternCrate(i) => &i.attrs,
        Item::Fn(i) => &i.attrs,
        Item::ForeignMod(i) => &i.attrs,
        Item::Impl(i) => &i.attrs,
        Item::Macro(i) => &i.attrs,
        Item::Mod(i) => &i.attrs,
        Item::Static(i) => &i.attrs,
        Item::Struct(i) => &i.attrs,
        Item::Trait(i) => &i.attrs,
        Item::TraitAlias(i) => &i.attrs,
        Item::Type(i) => &i.attrs,
        Item::Union(i) => &i.attrs,
        Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

fn impl_item_attrs(item: &syn::ImplItem) -> &[syn::Attribute] {
    use syn::ImplItem;
    match item {
        ImplItem::Const(i) => &i.attrs,
        ImplItem::Fn(i) => &i.attrs,
        ImplItem::Type(i) => &i.attrs,
        ImplItem::Macro(i) => &i.attrs,
        _ => &[],
    }
}

/// Removes every `#[cfg(test)]` item: at file level, in inline modules, impls and blocks.
struct StripTests;

/// The `use` items of `items` first, sorted (their order means nothing; `rustfmt` reorders them),
/// then the other items in their order.
fn sort_uses(items: &mut Vec<syn::Item>) {
    let text = |i: &syn::Item| quote::ToTokens::to_token_stream(i).to_string();
    let (mut uses, rest): (Vec<syn::Item>, Vec<syn::Item>) =
        std::mem::take(items).into_iter().partition(|i| matches!(i, syn::Item::Use(_)));
    uses.sort_by_cached_key(text);
    uses.extend(rest);
    *items = uses;
}

impl syn::visit_mut::VisitMut for StripTests {
    fn visit_file_mut(&mut self, f: &mut syn::File) {
        f.items.retain(|i| !is_cfg_test(item_attrs(i)));
        syn::visit_mut::visit_file_mut(self, f);
        sort_uses(&mut f.items);
    }

    fn visit_item_mod_mut(&mut self, m: &mut syn::ItemMod) {
        if let Some((_, items)) = &mut m.content {
            items.retain(|i| !is_cfg_test(item_attrs(i)));
        }
        syn::visit_mut::visit_item_mod_mut(self, m);
        if let Some((_, items)) = &mut m.content {
            sort_uses(items);
        }
    }

    fn visit_use_tree_mut(&mut self, t: &mut syn::UseTree) {
        syn::visit_mut::visit_use_tree_mut(self, t);
        // `use a::{b}` is `use a::b`.
        if let syn::UseTree::Group(g) = t
            && g.items.len() == 1
            && let Some(only) = g.items.pop()
        {
            *t = only.into_value();
        }
    }

    fn visit_use_group_mut(&mut self, g: &mut syn::UseGroup) {
        syn::visit_mut::visit_use_group_mut(self, g);
        let mut trees: Vec<syn::UseTree> = std::mem::take(&mut g.items).into_iter().collect();
        trees.sort_by_cached_key(|t| quote::ToTokens::to_token_stream(t).to_string());
        g.items = trees.into_iter().collect();
    }

    fn visit_item_impl_mut(&mut self, i: &mut syn::ItemImpl) {
        i.items.retain(|it| !is_cfg_test(impl_item_attrs(it)));
        syn::visit_mut::visit_item_impl_mut(self, i);
    }

    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        b.stmts.retain(|s| !matches!(s, syn::Stmt::Item(it) if is_cfg_test(item_attrs(it))));
        syn::visit_mut::visit_block_mut(self, b);
    }
}

/// A token of the canonical form: punctuation (joint with the next one or not), any other token
/// as written, or a delimited group (`(`, `[`, `{`, or ` ` for an invisible one).
#[derive(Clone)]
enum Tok {
    Punct(char, bool),
    Word(String),
    Group(char, Vec<Tok>),
}

/// `tokens` as [`Tok`]s, leaving out doc attributes (`#[doc …]`, `#![doc …]`: the doc comments).
fn tree(tokens: &[proc_macro2::TokenTree]) -> Vec<Tok> {
    use proc_macro2::{Delimiter, Spacing, TokenTree};
    let is_doc = |t: Option<&TokenTree>| {
        matches!(t, Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket
            && matches!(g.stream().into_iter().next(), Some(TokenTree::Ident(i)) if i == "doc"))
    };
    let mut out = Vec::new();
    let mut k = 0;
    while k < tokens.len() {
        match &tokens[k] {
            TokenTree::Punct(p) if p.as_char() == '#' => {
                let bang = matches!(tokens.get(k + 1), Some(TokenTree::Punct(b)) if b.as_char() == '!');
                let at = if bang { k + 2 } else { k + 1 };
                if is_doc(tokens.get(at)) {
                    k = at + 1;
                    continue;
                }
                out.push(Tok::Punct('#', p.spacing() == Spacing::Joint));
            }
            TokenTree::Punct(p) => out.push(Tok::Punct(p.as_char(), p.spacing() == Spacing::Joint)),
            TokenTree::Group(g) => {
                let open = match g.delimiter() {
                    Delimiter::Parenthesis => '(',
                    Delimiter::Brace => '{',
                    Delimiter::Bracket => '[',
                    Delimiter::None => ' ',
                };
                let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                out.push(Tok::Group(open, tree(&inner)));
            }
            TokenTree::Ident(i) => out.push(Tok::Word(i.to_string())),
            TokenTree::Literal(l) => out.push(Tok::Word(l.to_string())),
        }
        k += 1;
    }
    out
}

/// Writes what `rustfmt` may change one way: a brace block holding a single expression (no `;`)
/// as a match arm (`=> { e }`, written `=> e ,`) or a closure's body (`| x | { e }`) is written
/// without its braces; a trailing comma is dropped (in parentheses only after a callee, not from a
/// one-element tuple; in a generic argument list before its `>`); and a block's last `return`,
/// `break` or `continue` loses its `;`.
fn normalize(tokens: Vec<Tok>) -> Vec<Tok> {
    normalize_in(' ', tokens)
}

fn normalize_in(delimiter: char, tokens: Vec<Tok>) -> Vec<Tok> {
    const KEYWORDS: [&str; 12] =
        ["return", "in", "match", "if", "while", "let", "break", "for", "mut", "ref", "as", "else"];
    let tokens: Vec<Tok> = tokens
        .into_iter()
        .map(|t| if let Tok::Group(d, inner) = t { Tok::Group(d, normalize_in(d, inner)) } else { t })
        .collect();
    let mut out: Vec<Tok> = Vec::with_capacity(tokens.len());
    let mut it = tokens.into_iter().peekable();
    while let Some(t) = it.next() {
        if let Tok::Group('{', inner) = &t {
            let after_arrow = matches!(out.as_slice(), [.., Tok::Punct('=', true), Tok::Punct('>', _)]);
            let after_bar = matches!(out.last(), Some(Tok::Punct('|', _)));
            let single = !inner.is_empty() && !inner.iter().any(|x| matches!(x, Tok::Punct(';', _)));
            if (after_arrow || after_bar) && single {
                out.extend(inner.iter().cloned());
                if after_arrow && !matches!(it.peek(), Some(Tok::Punct(',', _))) {
                    out.push(Tok::Punct(',', false));
                }
                continue;
            }
        }
        // A parenthesised list after a callee (`f (`, `m ! (`, `x . f (`, `g :: < T > (`) is
        // arguments, where a trailing comma means nothing; elsewhere `(a ,)` is a 1-tuple.
        if let Tok::Group('(', inner) = &t {
            let callee = match out.last() {
                Some(Tok::Word(w)) => {
                    !KEYWORDS.contains(&w.as_str()) && !w.starts_with(|c: char| c.is_ascii_digit() || c == '"')
                }
                Some(Tok::Group(d, _)) => *d == '(' || *d == '[',
                Some(Tok::Punct('!', _)) => true,
                Some(Tok::Punct('>', _)) => !matches!(out.as_slice(), [.., Tok::Punct('-', true), Tok::Punct('>', _)]),
                _ => false,
            };
            if callee && matches!(inner.last(), Some(Tok::Punct(',', _))) {
                let mut inner = inner.clone();
                inner.pop();
                out.push(Tok::Group('(', inner));
                continue;
            }
        }
        out.push(t);
    }
    let commas = out.iter().filter(|x| matches!(x, Tok::Punct(',', _))).count();
    let trailing = matches!(out.last(), Some(Tok::Punct(',', _)));
    if trailing && (delimiter == '[' || delimiter == '{' || commas >= 2) {
        out.pop();
    }
    // `{ … return x ; }` is `{ … return x }`.
    if delimiter == '{' && matches!(out.last(), Some(Tok::Punct(';', _))) {
        let body = &out[..out.len() - 1];
        let jump =
            body.iter().rposition(|x| matches!(x, Tok::Word(w) if w == "return" || w == "break" || w == "continue"));
        if let Some(r) = jump
            && !body[r..].iter().any(|x| matches!(x, Tok::Punct(';', _)))
            && (r == 0 || matches!(body[r - 1], Tok::Punct(';', _) | Tok::Group('{', _)))
        {
            out.pop();
        }
    }
    // A trailing comma of a generic argument list: `< A , B , >` is `< A , B >`.
    let mut k = 0;
    while k + 1 < out.len() {
        if matches!(out[k], Tok::Punct(',', _)) && matches!(out[k + 1], Tok::Punct('>', _)) {
            out.remove(k);
        } else {
            k += 1;
        }
    }
    out
}

/// Writes `tokens` one space apart (a punctuation mark joint with the next one without: `::`,
/// `->`; jointness before anything but punctuation is whitespace, and `rustfmt` changes it).
fn write(tokens: &[Tok], out: &mut String) {
    for (k, t) in tokens.iter().enumerate() {
        match t {
            Tok::Punct(c, joint) => {
                out.push(*c);
                if !(*joint && matches!(tokens.get(k + 1), Some(Tok::Punct(..)))) {
                    out.push(' ');
                }
            }
            Tok::Word(w) => {
                out.push_str(w);
                out.push(' ');
            }
            Tok::Group(open, inner) => {
                let close = match open {
                    '(' => ')',
                    '[' => ']',
                    '{' => '}',
                    _ => ' ',
                };
                out.push(*open);
                out.push(' ');
                write(inner, out);
                out.push(close);
                out.push(' ');
            }
        }
    }
}
