//! A VST3 export for plugins with an auxiliary (sidechain) input bus, safe when the host
//! leaves that bus inactive.
//!
//! nice-plug 0.4.2's VST3 wrapper reads the host's `AudioBusBuffers` for every auxiliary
//! input it declared, and copies from each channel pointer it finds there. Two things a
//! host may legitimately do then crash it:
//! - give an inactive bus its full `numChannels` with null channel pointers (JUCE-based
//!   hosts do this for a sidechain nobody connected, pedalboard among them);
//! - pass fewer input buses than the plugin declared (the wrapper bounds the aux index
//!   by the *output* bus count, so it reads past the host's array);
//! - give an inactive bus no channel array (pedalboard does): nice-plug survives that
//!   but hands the plugin a buffer of the wrong length.
//!
//! And one more, found by the VST3 SDK's validator: nice-plug matches a requested bus
//! arrangement against the plugin's layouts reading the auxiliary buses from the wrong
//! index, so it accepts arrangements the plugin does not have (see [`layout_matches`]).
//!
//! [`SafeAuxWrapper`] is the nice-plug wrapper with two changes on the way in: to
//! `process` it hands a copy of the host's `ProcessData` in which every input bus the
//! plugin declared is present and every missing channel reads a silent buffer as long as
//! the host's largest block; `setBusArrangements` turns away arrangements that match none
//! of the plugin's layouts. Every other call goes straight to nice-plug's wrapper. [`oxide_export_vst3!`] exports a
//! plugin through it in place of `nice_export_vst3!`.
//!
//! It also keeps a parameter value the host sets while the plugin processes, which
//! nice-plug's wrapper ignores, until it reaches the plugin, so a save in between stores
//! it (see `vst3_state`). [`oxide_export_vst3!`] suits a plugin without an auxiliary
//! input as well.
//!
//! The editor's view goes out through `vst3_view`, which releases the run-loop handler
//! nice-plug leaks on Linux each time an editor opens.
//!
//! When nice-plug fixes the bounds (upstream: `wrapper/vst3/wrapper.rs`, the aux input
//! loop in `process`), this module can go and the plugin can use `nice_export_vst3!`.

use std::ffi::c_void;
use std::marker::PhantomData;

use atomic_refcell::AtomicRefCell;

use std::num::NonZeroU32;

use nice_plug::prelude::{AudioIOLayout, Vst3Plugin};
use nice_plug::wrapper::vst3::vst3::Steinberg::Vst::ChannelContext::{
    IInfoListener, IInfoListenerTrait,
};
use nice_plug::wrapper::vst3::vst3::Steinberg::Vst::{
    AudioBusBuffers, BusDirection, BusDirections_, BusInfo, CString, CtrlNumber, IAttributeList,
    IAudioProcessor, IAudioProcessorTrait, IComponent, IComponentHandler, IComponentTrait,
    IEditController, IEditControllerTrait, IMidiMapping, IMidiMappingTrait,
    INoteExpressionController, INoteExpressionControllerTrait, IProcessContextRequirements,
    IProcessContextRequirementsTrait, IUnitInfo, IUnitInfoTrait, IoMode, MediaType, MediaTypes_,
    NoteExpressionTypeID, NoteExpressionTypeInfo, NoteExpressionValue, ParamID, ParamValue,
    ParameterInfo, ProcessData, ProcessSetup, ProgramListID, ProgramListInfo, RoutingInfo,
    SpeakerArrangement, String128, TChar, UnitID, UnitInfo,
};
use nice_plug::wrapper::vst3::vst3::Steinberg::{
    int16, int32, kInvalidArgument, kResultFalse, kResultOk, tresult, uint32, FIDString, FUnknown,
    IBStream, IBStreamTrait, IPlugView, IPluginBaseTrait, IPluginFactory, IPluginFactory2,
    IPluginFactory2Trait, IPluginFactory3, IPluginFactory3Trait, IPluginFactoryTrait, PClassInfo,
    PClassInfo2, PClassInfoW, PFactoryInfo, TBool, TUID,
};
use nice_plug::wrapper::vst3::vst3::{Class, ComRef, ComWrapper};
use nice_plug::wrapper::vst3::{PluginInfo, Wrapper};

use crate::vst3_state::{patch_state, MemoryStream, PendingParams};

/// The most input buses, and channels per bus, the repaired `ProcessData` carries; a
/// plugin declaring more is passed through unrepaired.
const MAX_INPUT_BUSES: usize = 4;
const MAX_BUS_CHANNELS: usize = 8;

/// nice-plug's VST3 wrapper for `P`, with the host's input buses repaired before
/// `process` (see the module documentation).
pub struct SafeAuxWrapper<P: Vst3Plugin> {
    inner: Wrapper<P>,
    /// Silence as long as the host's largest block, read in place of a missing channel.
    /// Sized in `setupProcessing`, which the host never calls while processing.
    silence: AtomicRefCell<Vec<f32>>,
    /// Parameter values the host set while the plugin processed (see `vst3_state`).
    pending: PendingParams,
}

impl<P: Vst3Plugin> Class for SafeAuxWrapper<P> {
    // The same interfaces as nice-plug's wrapper, so hosts see the same plugin.
    type Interfaces = (
        IComponent,
        IEditController,
        IAudioProcessor,
        IMidiMapping,
        INoteExpressionController,
        IProcessContextRequirements,
        IUnitInfo,
        IInfoListener,
    );
}

impl<P: Vst3Plugin> Default for SafeAuxWrapper<P> {
    fn default() -> Self {
        Self {
            inner: Wrapper::new(),
            silence: AtomicRefCell::new(Vec::new()),
            pending: PendingParams::default(),
        }
    }
}

/// Input buses repaired for nice-plug, living on the audio thread's stack for one call.
struct RepairedInputs {
    buses: [AudioBusBuffers; MAX_INPUT_BUSES],
    /// Channel arrays for the buses whose host channels were missing: each entry points
    /// at the silent buffer.
    channels: [[*mut f32; MAX_BUS_CHANNELS]; MAX_INPUT_BUSES],
    count: usize,
}

/// Whether `bus` has a channel array and every channel pointer in it is set.
///
/// # Safety
/// A non-null `channelBuffers32` must point to `numChannels` pointers.
unsafe fn bus_is_complete(bus: &AudioBusBuffers) -> bool {
    // SAFETY: the caller guarantees the channel array holds `numChannels` pointers.
    unsafe {
        let channels = bus.__field0.channelBuffers32;
        !channels.is_null()
            && (0..bus.numChannels.max(0) as usize).all(|c| !(*channels.add(c)).is_null())
    }
}

impl RepairedInputs {
    /// Repairs the host's input buses into `self`: every one of the `declared` buses
    /// present; a bus with a missing channel pointer reads `silence` on every channel
    /// (or, if `silence` is shorter than the block, has no channel array, which
    /// nice-plug fills with zeroes). Returns false, leaving `self` unused, when the host's
    /// buses are already safe, the common case. `self` must not move while nice-plug
    /// reads it: the repaired buses point into its `channels`.
    ///
    /// # Safety
    /// `data` must be the host's valid `ProcessData`: `inputs` points to `numInputs`
    /// buses, each bus's non-null `channelBuffers32` to `numChannels` pointers.
    unsafe fn repair(
        &mut self,
        data: &ProcessData,
        declared: usize,
        declared_channels: impl Fn(usize) -> int32,
        silence: &[f32],
    ) -> bool {
        let host: &[AudioBusBuffers] = if data.inputs.is_null() || data.numInputs <= 0 {
            &[]
        } else {
            // SAFETY: the caller guarantees `inputs` holds `numInputs` buses.
            unsafe { std::slice::from_raw_parts(data.inputs, data.numInputs as usize) }
        };
        let given = host.len();
        // SAFETY: as the caller guarantees for each bus.
        let complete = host.iter().all(|bus| unsafe { bus_is_complete(bus) });
        let flush = data.numSamples <= 0;
        if (given >= declared && complete) || flush || declared > MAX_INPUT_BUSES {
            return false;
        }

        let long_enough = silence.len() >= data.numSamples.max(0) as usize;
        // nice-plug only reads input channels (it copies auxiliary inputs into its own
        // buffers), so every missing channel can share the one silent buffer.
        self.channels = [[silence.as_ptr().cast_mut(); MAX_BUS_CHANNELS]; MAX_INPUT_BUSES];
        self.count = declared.max(given).min(MAX_INPUT_BUSES);
        let buses = self.buses.iter_mut().zip(&mut self.channels);
        for (index, (bus, channels)) in buses.enumerate().take(self.count) {
            let num_channels = match host.get(index) {
                // SAFETY: as the caller guarantees.
                Some(host_bus) if unsafe { bus_is_complete(host_bus) } => {
                    *bus = *host_bus;
                    continue;
                }
                Some(host_bus) if host_bus.numChannels > 0 => {
                    *bus = *host_bus;
                    host_bus.numChannels
                }
                _ => declared_channels(index),
            };
            if long_enough {
                bus.numChannels = num_channels.clamp(0, MAX_BUS_CHANNELS as int32);
                bus.__field0.channelBuffers32 = channels.as_mut_ptr();
            } else {
                bus.__field0.channelBuffers32 = std::ptr::null_mut();
            }
        }
        true
    }
}

/// Whether the host's bus arrangements have exactly `layout`'s buses and channel counts.
///
/// nice-plug 0.4.2 matches a requested arrangement against its layouts with the
/// auxiliary buses read from the wrong index (from the main bus's, when there is a main
/// bus), so it accepts, say, a mono main input with a stereo sidechain as the layout
/// "mono with a mono sidechain", and then reports that instead. Asking this first turns
/// such requests away; for a request that does match a layout whose main and auxiliary
/// buses have the same width (the channel strip's), nice-plug's reading is the same.
fn layout_matches(
    layout: &AudioIOLayout,
    inputs: &[SpeakerArrangement],
    outputs: &[SpeakerArrangement],
) -> bool {
    let counts_match =
        |main: Option<NonZeroU32>, aux: &[NonZeroU32], buses: &[SpeakerArrangement]| {
            let expected = main.into_iter().chain(aux.iter().copied());
            expected.clone().count() == buses.len()
                && expected
                    .zip(buses)
                    .all(|(channels, bus)| bus.count_ones() == channels.get())
        };
    counts_match(layout.main_input_channels, layout.aux_input_ports, inputs)
        && counts_match(
            layout.main_output_channels,
            layout.aux_output_ports,
            outputs,
        )
}

impl<P: Vst3Plugin> IAudioProcessorTrait for SafeAuxWrapper<P> {
    unsafe fn process(&self, data: *mut ProcessData) -> tresult {
        if data.is_null() {
            return unsafe { self.inner.process(data) };
        }
        // SAFETY: the host passes a valid `ProcessData` for the duration of the call.
        let host_data = unsafe { &*data };
        // SAFETY: reads nice-plug's current layout; no host pointers involved.
        let declared = unsafe {
            self.inner.getBusCount(
                MediaTypes_::kAudio as MediaType,
                BusDirections_::kInput as BusDirection,
            )
        }
        .max(0) as usize;
        // `setupProcessing` never runs during `process`, so this borrow always succeeds;
        // if a host broke that rule, a missing bus would fall back to nice-plug's zero fill.
        let silence = self.silence.try_borrow();
        let silence = silence.as_deref().map_or(&[][..], Vec::as_slice);
        let mut inputs = RepairedInputs {
            // SAFETY: `AudioBusBuffers` is plain C data; all zeroes is zero channels, no
            // silence flags and a null channel array.
            buses: [unsafe { std::mem::zeroed() }; MAX_INPUT_BUSES],
            channels: [[std::ptr::null_mut(); MAX_BUS_CHANNELS]; MAX_INPUT_BUSES],
            count: 0,
        };
        // The bus's channel count from its arrangement: `getBusArrangement` only reads
        // nice-plug's layout (`getBusInfo` would also copy the bus name).
        let declared_channels = |index: usize| {
            let mut arrangement: SpeakerArrangement = 0;
            // SAFETY: writes into our own `arrangement`.
            let found = unsafe {
                self.inner.getBusArrangement(
                    BusDirections_::kInput as BusDirection,
                    index as int32,
                    &mut arrangement,
                )
            };
            if found == kResultOk {
                arrangement.count_ones() as int32
            } else {
                0
            }
        };
        // SAFETY: `host_data` is the host's valid `ProcessData` (above).
        if !unsafe { inputs.repair(host_data, declared, declared_channels, silence) } {
            return unsafe { self.inner.process(data) };
        }
        let mut repaired = *host_data;
        repaired.inputs = inputs.buses.as_mut_ptr();
        repaired.numInputs = inputs.count as int32;
        // SAFETY: `repaired` is the host's data with `inputs` pointing at `inputs.buses`,
        // which stays in place for the call and holds `numInputs` valid buses (their
        // channel arrays in `inputs.channels`, pointing at `silence`, also borrowed for
        // the call). nice-plug's aux loop is bounded by `numOutputs`, not `numInputs`;
        // every index it can reach below `MAX_INPUT_BUSES` is a valid bus in that array.
        unsafe { self.inner.process(&mut repaired) }
    }

    unsafe fn setBusArrangements(
        &self,
        inputs: *mut SpeakerArrangement,
        num_ins: int32,
        outputs: *mut SpeakerArrangement,
        num_outs: int32,
    ) -> tresult {
        if !inputs.is_null() && !outputs.is_null() && num_ins >= 0 && num_outs >= 0 {
            // SAFETY: the host's arrays of `num_ins` and `num_outs` arrangements.
            let (ins, outs) = unsafe {
                (
                    std::slice::from_raw_parts(inputs, num_ins as usize),
                    std::slice::from_raw_parts(outputs, num_outs as usize),
                )
            };
            if !P::AUDIO_IO_LAYOUTS
                .iter()
                .any(|layout| layout_matches(layout, ins, outs))
            {
                return kResultFalse;
            }
        }
        unsafe {
            self.inner
                .setBusArrangements(inputs, num_ins, outputs, num_outs)
        }
    }

    unsafe fn getBusArrangement(
        &self,
        dir: BusDirection,
        index: int32,
        arr: *mut SpeakerArrangement,
    ) -> tresult {
        unsafe { self.inner.getBusArrangement(dir, index, arr) }
    }

    unsafe fn canProcessSampleSize(&self, symbolic_sample_size: int32) -> tresult {
        unsafe { self.inner.canProcessSampleSize(symbolic_sample_size) }
    }

    unsafe fn getLatencySamples(&self) -> uint32 {
        unsafe { self.inner.getLatencySamples() }
    }

    unsafe fn setupProcessing(&self, setup: *mut ProcessSetup) -> tresult {
        if !setup.is_null() {
            // SAFETY: the host's non-null `ProcessSetup`.
            let max_block = unsafe { (*setup).maxSamplesPerBlock }.max(0) as usize;
            if let Ok(mut silence) = self.silence.try_borrow_mut() {
                silence.clear();
                silence.resize(max_block, 0.0);
            }
        }
        unsafe { self.inner.setupProcessing(setup) }
    }

    unsafe fn setProcessing(&self, state: TBool) -> tresult {
        let result = unsafe { self.inner.setProcessing(state) };
        if state == 0 {
            // No longer processing: the wrapper takes a set value now.
            let live = |id| unsafe { self.inner.getParamNormalized(id) };
            for (id, value) in self.pending.take(live) {
                // SAFETY: an id and value the host gave `setParamNormalized`.
                unsafe { self.inner.setParamNormalized(id, value) };
            }
        }
        result
    }

    unsafe fn getTailSamples(&self) -> uint32 {
        unsafe { self.inner.getTailSamples() }
    }
}

/// Implements interface traits on [`SafeAuxWrapper`] by calling nice-plug's wrapper,
/// with the methods written out after a trait's list (`+ { … }`) added as they are.
macro_rules! forward {
    ($($trait:ident {
        $(fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)*
    } $(+ { $($own:tt)* })?)*) => {
        $(impl<P: Vst3Plugin> $trait for SafeAuxWrapper<P> {
            $(unsafe fn $name(&self $(, $arg: $ty)*) -> $ret {
                // SAFETY: the host's arguments go unchanged to the wrapper that expects them.
                unsafe { $trait::$name(&self.inner $(, $arg)*) }
            })*
            $($($own)*)?
        })*
    };
}

forward! {
    IPluginBaseTrait {
        fn initialize(&self, context: *mut FUnknown) -> tresult;
        fn terminate(&self) -> tresult;
    }
    IComponentTrait {
        fn getControllerClassId(&self, class_id: *mut TUID) -> tresult;
        fn setIoMode(&self, mode: IoMode) -> tresult;
        fn getBusCount(&self, media: MediaType, dir: BusDirection) -> int32;
        fn getBusInfo(&self, media: MediaType, dir: BusDirection, index: int32, bus: *mut BusInfo) -> tresult;
        fn getRoutingInfo(&self, in_info: *mut RoutingInfo, out_info: *mut RoutingInfo) -> tresult;
        fn activateBus(&self, media: MediaType, dir: BusDirection, index: int32, state: TBool) -> tresult;
        fn setActive(&self, state: TBool) -> tresult;
        fn setState(&self, state: *mut IBStream) -> tresult;
    } + {
        unsafe fn getState(&self, state: *mut IBStream) -> tresult {
            // SAFETY: the host's stream, as nice-plug's wrapper expects it.
            unsafe { self.state_with_pending(state) }
        }
    }
    IEditControllerTrait {
        fn setComponentState(&self, state: *mut IBStream) -> tresult;
        fn setState(&self, state: *mut IBStream) -> tresult;
        fn getState(&self, state: *mut IBStream) -> tresult;
        fn getParameterCount(&self) -> int32;
        fn getParameterInfo(&self, index: int32, info: *mut ParameterInfo) -> tresult;
        fn getParamStringByValue(&self, id: ParamID, normalized: ParamValue, string: *mut String128) -> tresult;
        fn getParamValueByString(&self, id: ParamID, string: *mut TChar, normalized: *mut ParamValue) -> tresult;
        fn normalizedParamToPlain(&self, id: ParamID, normalized: ParamValue) -> ParamValue;
        fn plainParamToNormalized(&self, id: ParamID, plain: ParamValue) -> ParamValue;
        fn setComponentHandler(&self, handler: *mut IComponentHandler) -> tresult;
    } + {
        unsafe fn createView(&self, name: FIDString) -> *mut IPlugView {
            // SAFETY: forwarded unchanged; the view comes back with one reference.
            let view = unsafe { self.inner.createView(name) };
            // On Linux nice-plug's view leaks a run-loop handler per frame: the wrapper
            // releases it (see `vst3_view`). Elsewhere the view goes out as it is.
            #[cfg(all(target_family = "unix", not(target_os = "macos")))]
            // SAFETY: null or a view carrying the one reference the wrapper takes over.
            let view = unsafe { crate::vst3_view::ViewWrapper::wrap(view) };
            view
        }

        unsafe fn getParamNormalized(&self, id: ParamID) -> ParamValue {
            // SAFETY: forwarded unchanged.
            let live = unsafe { self.inner.getParamNormalized(id) };
            self.pending.value_of(id, live).unwrap_or(live)
        }

        unsafe fn setParamNormalized(&self, id: ParamID, value: ParamValue) -> tresult {
            // SAFETY (the three calls): forwarded unchanged.
            let before = unsafe { self.inner.getParamNormalized(id) };
            let result = unsafe { self.inner.setParamNormalized(id, value) };
            let after = unsafe { self.inner.getParamNormalized(id) };
            if result == kResultOk {
                self.pending.record(id, value, before, after);
            }
            result
        }
    }
    IMidiMappingTrait {
        fn getMidiControllerAssignment(&self, bus: int32, channel: int16, controller: CtrlNumber, id: *mut ParamID) -> tresult;
    }
    INoteExpressionControllerTrait {
        fn getNoteExpressionCount(&self, bus: int32, channel: int16) -> int32;
        fn getNoteExpressionInfo(&self, bus: int32, channel: int16, index: int32, info: *mut NoteExpressionTypeInfo) -> tresult;
        fn getNoteExpressionStringByValue(&self, bus: int32, channel: int16, id: NoteExpressionTypeID, normalized: NoteExpressionValue, string: *mut String128) -> tresult;
        fn getNoteExpressionValueByString(&self, bus: int32, channel: int16, id: NoteExpressionTypeID, string: *const TChar, normalized: *mut NoteExpressionValue) -> tresult;
    }
    IProcessContextRequirementsTrait {
        fn getProcessContextRequirements(&self) -> uint32;
    }
    IUnitInfoTrait {
        fn getUnitCount(&self) -> int32;
        fn getUnitInfo(&self, index: int32, info: *mut UnitInfo) -> tresult;
        fn getProgramListCount(&self) -> int32;
        fn getProgramListInfo(&self, index: int32, info: *mut ProgramListInfo) -> tresult;
        fn getProgramName(&self, list: ProgramListID, index: int32, name: *mut String128) -> tresult;
        fn getProgramInfo(&self, list: ProgramListID, index: int32, attribute: CString, value: *mut String128) -> tresult;
        fn hasProgramPitchNames(&self, list: ProgramListID, index: int32) -> tresult;
        fn getProgramPitchName(&self, list: ProgramListID, index: int32, pitch: int16, name: *mut String128) -> tresult;
        fn getSelectedUnit(&self) -> UnitID;
        fn selectUnit(&self, id: UnitID) -> tresult;
        fn getUnitByBus(&self, media: MediaType, dir: BusDirection, bus: int32, channel: int32, unit: *mut UnitID) -> tresult;
        fn setUnitProgramData(&self, list_or_unit: int32, index: int32, data: *mut IBStream) -> tresult;
    }
    IInfoListenerTrait {
        fn setChannelContextInfos(&self, list: *mut IAttributeList) -> tresult;
    }
}

/// `getState` with the values set while processing written in (see `vst3_state`).
impl<P: Vst3Plugin> SafeAuxWrapper<P> {
    unsafe fn state_with_pending(&self, state: *mut IBStream) -> tresult {
        let live = |id| unsafe { self.inner.getParamNormalized(id) };
        let changes = self.pending.current(live);
        if changes.is_empty() || state.is_null() {
            // SAFETY: forwarded unchanged.
            return unsafe { IComponentTrait::getState(&self.inner, state) };
        }
        let buffer = ComWrapper::new(MemoryStream::default());
        let Some(buffer_ptr) = buffer.to_com_ptr::<IBStream>() else {
            return kResultFalse;
        };
        // SAFETY: a live stream of ours.
        let result = unsafe { IComponentTrait::getState(&self.inner, buffer_ptr.as_ptr()) };
        if result != kResultOk {
            return result;
        }
        let saved = buffer.bytes();
        let bytes = patch_state::<P>(&saved, &changes).unwrap_or(saved);
        let Ok(len) = int32::try_from(bytes.len()) else {
            return kResultFalse;
        };
        // SAFETY: the host's non-null stream.
        let Some(host) = (unsafe { ComRef::<IBStream>::from_raw(state) }) else {
            return kInvalidArgument;
        };
        let mut written = 0;
        // SAFETY: `bytes` holds `len` bytes; the stream only reads them.
        let result = unsafe { host.write(bytes.as_ptr() as *mut c_void, len, &mut written) };
        if result == kResultOk && written == len {
            kResultOk
        } else {
            kResultFalse
        }
    }
}

/// The VST3 factory for one plugin, creating [`SafeAuxWrapper`]s.
pub struct Factory<P: Vst3Plugin> {
    info: PluginInfo,
    plugin: PhantomData<fn() -> P>,
}

impl<P: Vst3Plugin> Class for Factory<P> {
    type Interfaces = (IPluginFactory, IPluginFactory2, IPluginFactory3);
}

impl<P: Vst3Plugin> Default for Factory<P> {
    fn default() -> Self {
        Self {
            info: PluginInfo::for_plugin::<P>(),
            plugin: PhantomData,
        }
    }
}

impl<P: Vst3Plugin + 'static> Factory<P> {
    /// The factory as the host's `GetPluginFactory` returns it (one reference, owned by
    /// the host).
    pub fn into_raw() -> *mut c_void {
        ComWrapper::new(Self::default())
            .to_com_ptr::<IPluginFactory>()
            .map_or(std::ptr::null_mut(), |ptr| ptr.into_raw() as *mut c_void)
    }

    /// Writes the class info for `index` (only 0 exists) through `write`.
    fn class_info<T>(
        &self,
        index: int32,
        out: *mut T,
        make: impl FnOnce(&PluginInfo) -> T,
    ) -> tresult {
        if index != 0 || out.is_null() {
            return kInvalidArgument;
        }
        // SAFETY: `out` is the host's non-null pointer to storage for one `T`.
        unsafe { out.write(make(&self.info)) };
        kResultOk
    }
}

impl<P: Vst3Plugin + 'static> IPluginFactoryTrait for Factory<P> {
    unsafe fn getFactoryInfo(&self, info: *mut PFactoryInfo) -> tresult {
        if info.is_null() {
            return kInvalidArgument;
        }
        // SAFETY: the host's non-null pointer to a `PFactoryInfo`.
        unsafe { info.write(self.info.create_factory_info()) };
        kResultOk
    }

    unsafe fn countClasses(&self) -> int32 {
        1
    }

    unsafe fn getClassInfo(&self, index: int32, info: *mut PClassInfo) -> tresult {
        self.class_info(index, info, PluginInfo::create_class_info)
    }

    unsafe fn createInstance(
        &self,
        cid: FIDString,
        iid: FIDString,
        obj: *mut *mut c_void,
    ) -> tresult {
        if cid.is_null() || obj.is_null() {
            return kInvalidArgument;
        }
        // SAFETY: a class id is 16 bytes.
        if unsafe { &*(cid as *const [u8; 16]) } != self.info.cid {
            return kInvalidArgument;
        }
        let wrapper = ComWrapper::new(SafeAuxWrapper::<P>::default());
        let Some(unknown) = wrapper.as_com_ref::<FUnknown>() else {
            return kInvalidArgument;
        };
        let ptr = unknown.as_ptr();
        // SAFETY: `ptr` is a live COM object; `queryInterface` adds the reference the
        // host receives in `obj` (ours is dropped with `wrapper`).
        unsafe { ((*(*ptr).vtbl).queryInterface)(ptr, iid as *const TUID, obj) }
    }
}

impl<P: Vst3Plugin + 'static> IPluginFactory2Trait for Factory<P> {
    unsafe fn getClassInfo2(&self, index: int32, info: *mut PClassInfo2) -> tresult {
        self.class_info(index, info, PluginInfo::create_class_info_2)
    }
}

impl<P: Vst3Plugin + 'static> IPluginFactory3Trait for Factory<P> {
    unsafe fn getClassInfoUnicode(&self, index: int32, info: *mut PClassInfoW) -> tresult {
        self.class_info(index, info, PluginInfo::create_class_info_unicode)
    }

    unsafe fn setHostContext(&self, _context: *mut FUnknown) -> tresult {
        kResultOk
    }
}

pub use nice_plug::wrapper::setup_logger;

/// Exports `$plugin` as a VST3 plugin through [`SafeAuxWrapper`]: the entry points of
/// `nice_export_vst3!`, with the repaired input buses.
#[macro_export]
macro_rules! oxide_export_vst3 {
    ($plugin:ty) => {
        /// The VST3 plugin factory entry point.
        #[unsafe(no_mangle)]
        pub extern "system" fn GetPluginFactory() -> *mut ::std::ffi::c_void {
            $crate::vst3_aux::Factory::<$plugin>::into_raw()
        }

        #[allow(missing_docs)]
        #[unsafe(no_mangle)]
        #[cfg(all(target_family = "unix", not(target_os = "macos")))]
        pub extern "C" fn ModuleEntry(_lib_handle: *mut ::std::ffi::c_void) -> bool {
            $crate::vst3_aux::setup_logger::<$plugin>();
            true
        }

        #[allow(missing_docs)]
        #[unsafe(no_mangle)]
        #[cfg(all(target_family = "unix", not(target_os = "macos")))]
        pub extern "C" fn ModuleExit() -> bool {
            true
        }

        #[allow(missing_docs)]
        #[unsafe(no_mangle)]
        #[cfg(target_os = "macos")]
        pub extern "C" fn bundleEntry(_lib_handle: *mut ::std::ffi::c_void) -> bool {
            $crate::vst3_aux::setup_logger::<$plugin>();
            true
        }

        #[allow(missing_docs)]
        #[unsafe(no_mangle)]
        #[cfg(target_os = "macos")]
        pub extern "C" fn bundleExit() -> bool {
            true
        }

        #[allow(missing_docs)]
        #[unsafe(no_mangle)]
        #[cfg(target_os = "windows")]
        pub extern "system" fn InitDll() -> bool {
            $crate::vst3_aux::setup_logger::<$plugin>();
            true
        }

        #[allow(missing_docs)]
        #[unsafe(no_mangle)]
        #[cfg(target_os = "windows")]
        pub extern "system" fn ExitDll() -> bool {
            true
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEREO: SpeakerArrangement = 0b11;
    const MONO: SpeakerArrangement = 1 << 19;

    const ONE: NonZeroU32 = NonZeroU32::new(1).unwrap();
    const TWO: NonZeroU32 = NonZeroU32::new(2).unwrap();

    /// The channel strip's layouts: stereo and mono, each with a sidechain as wide.
    fn strip_layouts() -> [AudioIOLayout; 2] {
        let stereo = AudioIOLayout {
            main_input_channels: Some(TWO),
            main_output_channels: Some(TWO),
            aux_input_ports: &[TWO],
            ..AudioIOLayout::const_default()
        };
        let mono = AudioIOLayout {
            main_input_channels: Some(ONE),
            main_output_channels: Some(ONE),
            aux_input_ports: &[ONE],
            ..AudioIOLayout::const_default()
        };
        [stereo, mono]
    }

    #[test]
    fn only_the_declared_arrangements_match() {
        let [stereo, mono] = strip_layouts();
        assert!(layout_matches(&stereo, &[STEREO, STEREO], &[STEREO]));
        assert!(layout_matches(&mono, &[MONO, MONO], &[MONO]));
        // The validator's request: mono main, stereo sidechain. nice-plug alone took
        // it for the mono layout.
        assert!(!layout_matches(&mono, &[MONO, STEREO], &[MONO]));
        assert!(!layout_matches(&stereo, &[MONO, STEREO], &[MONO]));
        // Missing or extra buses.
        assert!(!layout_matches(&stereo, &[STEREO], &[STEREO]));
        assert!(!layout_matches(
            &stereo,
            &[STEREO, STEREO, STEREO],
            &[STEREO]
        ));
        assert!(!layout_matches(&stereo, &[STEREO, STEREO], &[]));
    }

    fn bus(channels: &mut [*mut f32]) -> AudioBusBuffers {
        // SAFETY: plain C data.
        let mut bus: AudioBusBuffers = unsafe { std::mem::zeroed() };
        bus.numChannels = channels.len() as int32;
        bus.__field0.channelBuffers32 = channels.as_mut_ptr();
        bus
    }

    fn empty() -> RepairedInputs {
        RepairedInputs {
            // SAFETY: plain C data.
            buses: [unsafe { std::mem::zeroed() }; MAX_INPUT_BUSES],
            channels: [[std::ptr::null_mut(); MAX_BUS_CHANNELS]; MAX_INPUT_BUSES],
            count: 0,
        }
    }

    /// The repaired bus `index` as (channel count, channel pointers).
    fn channels_of(inputs: &RepairedInputs, index: usize) -> Vec<*mut f32> {
        let bus = &inputs.buses[index];
        // SAFETY: the repair set a channel array of `numChannels` pointers.
        unsafe {
            let array = bus.__field0.channelBuffers32;
            assert!(!array.is_null(), "bus {index} has no channel array");
            (0..bus.numChannels as usize)
                .map(|c| *array.add(c))
                .collect()
        }
    }

    #[test]
    fn missing_buses_and_channels_read_silence() {
        let silence = vec![0.0f32; 512];
        let silent = silence.as_ptr().cast_mut();
        let mut left = vec![0.5f32; 512];
        let mut right = vec![0.25f32; 512];
        let mut main = [left.as_mut_ptr(), right.as_mut_ptr()];
        let mut null_channels = [std::ptr::null_mut(); 2];
        let declared_channels = |_| 2;
        // SAFETY: plain C data.
        let mut data: ProcessData = unsafe { std::mem::zeroed() };
        data.numSamples = 512;

        // JUCE's inactive sidechain: both buses, the second with null channel pointers.
        let mut host = [bus(&mut main), bus(&mut null_channels)];
        data.inputs = host.as_mut_ptr();
        data.numInputs = 2;
        let mut inputs = empty();
        assert!(unsafe { inputs.repair(&data, 2, declared_channels, &silence) });
        assert_eq!(inputs.count, 2);
        assert_eq!(channels_of(&inputs, 0), main.to_vec());
        assert_eq!(channels_of(&inputs, 1), vec![silent; 2]);

        // pedalboard: no channel array on the second bus.
        host[1].__field0.channelBuffers32 = std::ptr::null_mut();
        data.inputs = host.as_mut_ptr();
        let mut inputs = empty();
        assert!(unsafe { inputs.repair(&data, 2, declared_channels, &silence) });
        assert_eq!(channels_of(&inputs, 1), vec![silent; 2]);

        // A host passing only the main bus: the sidechain is added, silent.
        data.numInputs = 1;
        let mut inputs = empty();
        assert!(unsafe { inputs.repair(&data, 2, declared_channels, &silence) });
        assert_eq!(inputs.count, 2);
        assert_eq!(channels_of(&inputs, 1), vec![silent; 2]);

        // A block longer than the silence: no channel array, which nice-plug zero-fills.
        data.numSamples = 513;
        let mut inputs = empty();
        assert!(unsafe { inputs.repair(&data, 2, declared_channels, &silence) });
        assert!(unsafe { inputs.buses[1].__field0.channelBuffers32 }.is_null());

        // Nothing to repair: a complete sidechain, or a parameter flush (no samples).
        let mut key_l = vec![0.0f32; 512];
        let mut key_r = vec![0.0f32; 512];
        let mut key = [key_l.as_mut_ptr(), key_r.as_mut_ptr()];
        let mut host = [bus(&mut main), bus(&mut key)];
        data.inputs = host.as_mut_ptr();
        data.numInputs = 2;
        data.numSamples = 512;
        assert!(!unsafe { empty().repair(&data, 2, declared_channels, &silence) });
        data.numInputs = 1;
        data.numSamples = 0;
        assert!(!unsafe { empty().repair(&data, 2, declared_channels, &silence) });
        // And no buses at all with a null array is not read.
        data.inputs = std::ptr::null_mut();
        data.numSamples = 512;
        let mut inputs = empty();
        assert!(unsafe { inputs.repair(&data, 2, declared_channels, &silence) });
        assert_eq!(channels_of(&inputs, 0), vec![silent; 2]);
    }
}
