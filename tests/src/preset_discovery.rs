//! A CLAP preset-discovery host for tests: asks a `.clap` file for its preset-discovery
//! factory, creates each provider with an indexer that records the declared file types
//! and locations, and crawls every location as a host's browser does (a file location
//! that is a folder is walked for the declared extensions). What each preset's metadata
//! receiver hears is recorded, and so is every error a provider reports.
//!
//! Main thread only: the whole crawl happens in one call.

use std::cell::RefCell;
use std::ffi::{c_char, c_void, CStr, CString};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, ensure, Result};
use clap_sys::factory::preset_discovery::{
    clap_preset_discovery_factory, clap_preset_discovery_filetype, clap_preset_discovery_indexer,
    clap_preset_discovery_location, clap_preset_discovery_metadata_receiver,
    clap_preset_discovery_provider, CLAP_PRESET_DISCOVERY_FACTORY_ID,
    CLAP_PRESET_DISCOVERY_LOCATION_FILE, CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN,
};
use clap_sys::timestamp::clap_timestamp;
use clap_sys::universal_plugin_id::clap_universal_plugin_id;
use clap_sys::version::CLAP_VERSION;

/// A location a provider declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub flags: u32,
    pub name: String,
    pub kind: u32,
    /// The path of a file location; `None` inside the plugin.
    pub path: Option<String>,
}

/// One preset, as the receiver heard it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preset {
    /// Where it was found: the location's kind and the file's path (none in the plugin).
    pub location_kind: u32,
    pub path: Option<String>,
    pub name: Option<String>,
    pub load_key: Option<String>,
    /// (abi, id) pairs.
    pub plugin_ids: Vec<(String, String)>,
    pub flags: Option<u32>,
    pub creators: Vec<String>,
    pub description: Option<String>,
    pub features: Vec<String>,
}

/// Everything one crawl found.
#[derive(Debug, Clone, Default)]
pub struct Crawl {
    /// Provider ids, as the factory lists them.
    pub providers: Vec<String>,
    /// The file extensions the providers declared.
    pub file_extensions: Vec<String>,
    pub locations: Vec<Location>,
    pub presets: Vec<Preset>,
    /// The errors providers reported through `on_error`, with the file's path.
    pub errors: Vec<(String, String)>,
}

fn text(ptr: *const c_char) -> Option<String> {
    if ptr.is_null() {
        None
    } else {
        // SAFETY: the plugin passes C strings alive for the call.
        Some(
            unsafe { CStr::from_ptr(ptr) }
                .to_string_lossy()
                .into_owned(),
        )
    }
}

#[derive(Default)]
struct Declared {
    extensions: Vec<String>,
    locations: Vec<Location>,
}

unsafe extern "C" fn declare_filetype(
    indexer: *const clap_preset_discovery_indexer,
    filetype: *const clap_preset_discovery_filetype,
) -> bool {
    // SAFETY: our own indexer, whose data is a `RefCell<Declared>`; the plugin's struct.
    let (declared, filetype) = unsafe {
        (
            &*((*indexer).indexer_data as *const RefCell<Declared>),
            &*filetype,
        )
    };
    declared
        .borrow_mut()
        .extensions
        .push(text(filetype.file_extension).unwrap_or_default());
    true
}

unsafe extern "C" fn declare_location(
    indexer: *const clap_preset_discovery_indexer,
    location: *const clap_preset_discovery_location,
) -> bool {
    // SAFETY: as in `declare_filetype`.
    let (declared, location) = unsafe {
        (
            &*((*indexer).indexer_data as *const RefCell<Declared>),
            &*location,
        )
    };
    declared.borrow_mut().locations.push(Location {
        flags: location.flags,
        name: text(location.name).unwrap_or_default(),
        kind: location.kind,
        path: text(location.location),
    });
    true
}

unsafe extern "C" fn declare_soundpack(
    _indexer: *const clap_preset_discovery_indexer,
    _soundpack: *const clap_sys::factory::preset_discovery::clap_preset_discovery_soundpack,
) -> bool {
    true
}

unsafe extern "C" fn indexer_extension(
    _indexer: *const clap_preset_discovery_indexer,
    _id: *const c_char,
) -> *const c_void {
    std::ptr::null()
}

struct Received {
    location_kind: u32,
    path: Option<String>,
    presets: Vec<Preset>,
    errors: Vec<(String, String)>,
}

fn received<'a>(receiver: *const clap_preset_discovery_metadata_receiver) -> &'a RefCell<Received> {
    // SAFETY: our own receiver, whose data is a `RefCell<Received>` alive for the crawl.
    unsafe { &*((*receiver).receiver_data as *const RefCell<Received>) }
}

/// The preset the last `begin_preset` started.
fn with_current(
    receiver: *const clap_preset_discovery_metadata_receiver,
    f: impl FnOnce(&mut Preset),
) {
    if let Some(preset) = received(receiver).borrow_mut().presets.last_mut() {
        f(preset);
    }
}

unsafe extern "C" fn on_error(
    receiver: *const clap_preset_discovery_metadata_receiver,
    _os_error: i32,
    message: *const c_char,
) {
    let mut r = received(receiver).borrow_mut();
    let path = r.path.clone().unwrap_or_default();
    r.errors.push((path, text(message).unwrap_or_default()));
}

unsafe extern "C" fn begin_preset(
    receiver: *const clap_preset_discovery_metadata_receiver,
    name: *const c_char,
    load_key: *const c_char,
) -> bool {
    let mut r = received(receiver).borrow_mut();
    let preset = Preset {
        location_kind: r.location_kind,
        path: r.path.clone(),
        name: text(name),
        load_key: text(load_key),
        ..Preset::default()
    };
    r.presets.push(preset);
    true
}

unsafe extern "C" fn add_plugin_id(
    receiver: *const clap_preset_discovery_metadata_receiver,
    id: *const clap_universal_plugin_id,
) {
    // SAFETY: the plugin's struct, alive for the call.
    let id = unsafe { &*id };
    let pair = (
        text(id.abi).unwrap_or_default(),
        text(id.id).unwrap_or_default(),
    );
    with_current(receiver, |p| p.plugin_ids.push(pair));
}

unsafe extern "C" fn set_soundpack_id(
    _receiver: *const clap_preset_discovery_metadata_receiver,
    _id: *const c_char,
) {
}

unsafe extern "C" fn set_flags(
    receiver: *const clap_preset_discovery_metadata_receiver,
    flags: u32,
) {
    with_current(receiver, |p| p.flags = Some(flags));
}

unsafe extern "C" fn add_creator(
    receiver: *const clap_preset_discovery_metadata_receiver,
    creator: *const c_char,
) {
    let creator = text(creator).unwrap_or_default();
    with_current(receiver, |p| p.creators.push(creator));
}

unsafe extern "C" fn set_description(
    receiver: *const clap_preset_discovery_metadata_receiver,
    description: *const c_char,
) {
    let description = text(description);
    with_current(receiver, |p| p.description = description);
}

unsafe extern "C" fn set_timestamps(
    _receiver: *const clap_preset_discovery_metadata_receiver,
    _creation: clap_timestamp,
    _modification: clap_timestamp,
) {
}

unsafe extern "C" fn add_feature(
    receiver: *const clap_preset_discovery_metadata_receiver,
    feature: *const c_char,
) {
    let feature = text(feature).unwrap_or_default();
    with_current(receiver, |p| p.features.push(feature));
}

unsafe extern "C" fn add_extra_info(
    _receiver: *const clap_preset_discovery_metadata_receiver,
    _key: *const c_char,
    _value: *const c_char,
) {
}

/// Asks provider `provider` for the metadata of one location.
fn get_metadata(
    provider: *const clap_preset_discovery_provider,
    kind: u32,
    path: Option<&str>,
    crawl: &mut Crawl,
) -> Result<()> {
    let data = RefCell::new(Received {
        location_kind: kind,
        path: path.map(str::to_owned),
        presets: Vec::new(),
        errors: Vec::new(),
    });
    let receiver = clap_preset_discovery_metadata_receiver {
        receiver_data: &data as *const RefCell<Received> as *mut c_void,
        on_error: Some(on_error),
        begin_preset: Some(begin_preset),
        add_plugin_id: Some(add_plugin_id),
        set_soundpack_id: Some(set_soundpack_id),
        set_flags: Some(set_flags),
        add_creator: Some(add_creator),
        set_description: Some(set_description),
        set_timestamps: Some(set_timestamps),
        add_feature: Some(add_feature),
        add_extra_info: Some(add_extra_info),
    };
    let location = path.map(CString::new).transpose()?;
    // SAFETY: the provider's own function, given itself, a location that lives for the
    // call and our receiver.
    let ok = unsafe {
        let get = (*provider)
            .get_metadata
            .ok_or_else(|| anyhow!("provider.get_metadata is null"))?;
        get(
            provider,
            kind,
            location.as_ref().map_or(std::ptr::null(), |l| l.as_ptr()),
            &receiver,
        )
    };
    ensure!(ok, "get_metadata returned false for {path:?}");
    let data = data.into_inner();
    crawl.presets.extend(data.presets);
    crawl.errors.extend(data.errors);
    Ok(())
}

/// Crawls every preset of the `.clap` file at `path`.
pub fn crawl(path: &Path) -> Result<Crawl> {
    let entry = crate::clap::load_entry(path)?;
    let get_factory = entry
        .raw_entry()
        .get_factory
        .ok_or_else(|| anyhow!("clap_entry.get_factory is null"))?;
    // SAFETY: the entry is initialised (clack-host's `load`); the id is a C string.
    let factory = unsafe { get_factory(CLAP_PRESET_DISCOVERY_FACTORY_ID.as_ptr()) }
        as *const clap_preset_discovery_factory;
    ensure!(
        !factory.is_null(),
        "{} has no preset-discovery factory",
        path.display()
    );
    // SAFETY: the plugin's factory, a static in the loaded library.
    let factory = unsafe { &*factory };
    let mut crawl = Crawl::default();
    // SAFETY (the factory calls): the factory's own functions, given itself.
    let count = unsafe { factory.count.ok_or_else(|| anyhow!("count is null"))?(factory) };
    for index in 0..count {
        let descriptor = unsafe {
            factory
                .get_descriptor
                .ok_or_else(|| anyhow!("get_descriptor is null"))?(factory, index)
        };
        ensure!(!descriptor.is_null(), "no descriptor {index}");
        // SAFETY: the plugin's descriptor, alive as long as the library.
        let provider_id = unsafe { CStr::from_ptr((*descriptor).id) }.to_owned();
        crawl
            .providers
            .push(provider_id.to_string_lossy().into_owned());

        let declared = RefCell::new(Declared::default());
        let indexer = clap_preset_discovery_indexer {
            clap_version: CLAP_VERSION,
            name: c"Oxide test indexer".as_ptr(),
            vendor: c"Oxide".as_ptr(),
            url: c"https://oxide.invalid".as_ptr(),
            version: c"0.1.0".as_ptr(),
            indexer_data: &declared as *const RefCell<Declared> as *mut c_void,
            declare_filetype: Some(declare_filetype),
            declare_location: Some(declare_location),
            declare_soundpack: Some(declare_soundpack),
            get_extension: Some(indexer_extension),
        };
        let provider = unsafe {
            factory.create.ok_or_else(|| anyhow!("create is null"))?(
                factory,
                &indexer,
                provider_id.as_ptr(),
            )
        };
        ensure!(
            !provider.is_null(),
            "the factory made no provider {provider_id:?}"
        );
        // SAFETY: the provider just made, used on this thread, destroyed below.
        let result = (|| -> Result<()> {
            let init = unsafe { (*provider).init.ok_or_else(|| anyhow!("init is null"))? };
            ensure!(unsafe { init(provider) }, "provider.init returned false");
            let declared = declared.borrow();
            for location in &declared.locations {
                match (location.kind, &location.path) {
                    (CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN, None) => {
                        get_metadata(provider, location.kind, None, &mut crawl)?
                    }
                    (CLAP_PRESET_DISCOVERY_LOCATION_FILE, Some(dir)) => {
                        for file in files_with(Path::new(dir), &declared.extensions)? {
                            let file = file.display().to_string();
                            get_metadata(provider, location.kind, Some(&file), &mut crawl)?;
                        }
                    }
                    _ => anyhow::bail!(
                        "a location of kind {} with path {:?}",
                        location.kind,
                        location.path
                    ),
                }
            }
            crawl
                .file_extensions
                .extend(declared.extensions.iter().cloned());
            crawl.locations.extend(declared.locations.iter().cloned());
            Ok(())
        })();
        // SAFETY: destroyed once, not used after.
        unsafe {
            if let Some(destroy) = (*provider).destroy {
                destroy(provider);
            }
        }
        result?;
    }
    Ok(crawl)
}

/// The files under `path` (itself if a file) whose extension is one of `extensions`,
/// sorted.
fn files_with(path: &Path, extensions: &[String]) -> Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path)? {
        let file = entry?.path();
        if file.is_dir() {
            files.extend(files_with(&file, extensions)?);
        } else if file
            .extension()
            .is_some_and(|x| extensions.iter().any(|e| x == e.as_str()))
        {
            files.push(file);
        }
    }
    files.sort();
    Ok(files)
}
