{ Pascal binding of sellsync (include/sellsync.h), for Delphi (XE2 or newer) and Free Pascal
  (3.2 or newer, mode delphi).

  Two layers:
  - the C API as it is: every export of abi/symbols.txt as a procedural variable of the
    header's name and signature (cdecl), with the header's constants and types;
  - TSellSync, a class owning one handle, whose methods raise an ESellSync subclass per
    status code with the library's message, and turn the library's strings into UTF8String.

  Loading. The library is loaded at run time (LoadLibrary / GetProcAddress; dynlibs under Free
  Pascal) on first use, or by LoadSellSync: the file SELLSYNC_LIBRARY names when that variable
  is set, else sellsync.dll (Windows) or libsellsync.so (elsewhere) from the system's search
  path. Loading at run time rather than with `external` declarations lets a host start without
  the library and report it, needs no import library for either compiler, and turns a missing
  file, a missing export (an older library) or another major version into one ESellSyncLibrary
  naming the problem, instead of the system loader refusing to start the program. The library
  is never unloaded: its threads may outlive any one handle.

  Strings. Every string crossing the C API is NUL-terminated UTF-8. Strings in are UTF8String
  parameters (Delphi's and Free Pascal's string types convert to it implicitly), borrowed for
  the call; a NUL character inside is refused (ESellSyncInvalidArgument) rather than cut off.
  Strings out are copied into a UTF8String and freed with sellsync_string_free at once.

  Threads and callbacks. A handle may be used from any number of threads. The event and log
  callbacks run on the library's threads, so the unit sets IsMultiThread, and under Free
  Pascal on Unix the program must name cthreads first in its uses clause (SetEventCallback and
  SetLogCallback refuse to register without a thread manager). A handler is a method (`of
  object`); the unit keeps its registration until the library lets go of it (free_user), and
  the object whose method it is must live that long. An exception escaping a handler is caught
  (it must not unwind into the library) and counted in CallbackErrors; an event handler's
  exception also declines the event (sellsync_event_decline): it comes again after
  orders.redelivery_seconds.

  Floating point. Delphi and Free Pascal unmask floating-point exceptions that C and Rust code
  expect masked; every call into the library runs with them masked and restores the caller's
  mask afterwards, and the library's threads, started inside such calls, inherit the mask. }
unit SellSync;

{$IFDEF FPC}
  {$mode delphi}
  {$H+}
{$ENDIF}

interface

uses
  {$IFDEF FPC}
  dynlibs,
  {$ELSE}
  {$IFDEF MSWINDOWS} Windows, {$ENDIF}
  {$ENDIF}
  SysUtils, Classes, SyncObjs, Math;

const
  { The header's SELLSYNC_VERSION_MAJOR this unit is written for. }
  SELLSYNC_BINDING_MAJOR = 0;

  {$IFDEF MSWINDOWS}
  SELLSYNC_LIBRARY_NAME = 'sellsync.dll';
  {$ELSE}
  {$IFDEF DARWIN}
  SELLSYNC_LIBRARY_NAME = 'libsellsync.dylib';
  {$ELSE}
  SELLSYNC_LIBRARY_NAME = 'libsellsync.so';
  {$ENDIF}
  {$ENDIF}

  { Flow bits for sellsync_sync_now. }
  SELLSYNC_FLOW_ORDERS = 1;
  SELLSYNC_FLOW_STOCK = 2;
  SELLSYNC_FLOW_LISTINGS = 4;
  SELLSYNC_FLOW_SHIPMENTS = 8;
  SELLSYNC_FLOW_ALL = 15;

  { Log levels for sellsync_set_log_callback. }
  SELLSYNC_LOG_ERROR = 1;
  SELLSYNC_LOG_WARN = 2;
  SELLSYNC_LOG_INFO = 3;
  SELLSYNC_LOG_DEBUG = 4;

  { Status codes (sellsync_status). Numbers are never reused. }
  SELLSYNC_OK = 0;
  SELLSYNC_ERR_INVALID_ARGUMENT = 1;
  SELLSYNC_ERR_CONFIG = 2;
  SELLSYNC_ERR_AUTH = 3;
  SELLSYNC_ERR_THROTTLED = 4;
  SELLSYNC_ERR_NETWORK = 5;
  SELLSYNC_ERR_AMAZON = 6;
  SELLSYNC_ERR_STORE = 7;
  SELLSYNC_ERR_NOT_FOUND = 8;
  SELLSYNC_ERR_CONFLICT = 9;
  SELLSYNC_ERR_TIMEOUT = 10;
  SELLSYNC_ERR_CLOSED = 11;
  SELLSYNC_ERR_INVALID_STATE = 12;
  SELLSYNC_ERR_FORKED = 13;
  SELLSYNC_ERR_INTERNAL = 14;

  { Every export of the library, as abi/symbols.txt lists them; LoadSellSync binds each. }
  SellSyncExports: array[0..34] of AnsiString = (
    'sellsync_close', 'sellsync_event_ack', 'sellsync_event_decline', 'sellsync_event_next',
    'sellsync_fba_stock', 'sellsync_last_error',
    'sellsync_listings', 'sellsync_metrics', 'sellsync_notifications_setup', 'sellsync_open',
    'sellsync_order_ack', 'sellsync_order_cancel', 'sellsync_order_cancel_items',
    'sellsync_order_next', 'sellsync_order_refund', 'sellsync_price_confirm',
    'sellsync_price_set', 'sellsync_prices', 'sellsync_purge_buyer_data',
    'sellsync_set_credentials', 'sellsync_set_event_callback', 'sellsync_set_log_callback',
    'sellsync_shipment_confirm', 'sellsync_shipments', 'sellsync_sku_map', 'sellsync_start',
    'sellsync_state', 'sellsync_status_str', 'sellsync_stock_set', 'sellsync_stock_set_batch',
    'sellsync_stop', 'sellsync_string_free', 'sellsync_sync_now', 'sellsync_version',
    'sellsync_version_number');

type
  { struct SellSync *: the handle. After close only a tombstone remains, which answers
    SELLSYNC_ERR_CLOSED. }
  PSellSyncHandle = type Pointer;
  PPSellSyncHandle = ^PSellSyncHandle;
  TSellSyncStatus = Int32;
  PPAnsiCharOut = ^PAnsiChar;

  { void (*cb)(void *user, const char *event_json) }
  TSellSyncEventCallback = procedure(User: Pointer; EventJson: PAnsiChar); cdecl;
  { void (*free_user)(void *user) }
  TSellSyncFreeUser = procedure(User: Pointer); cdecl;
  { void (*cb)(void *user, int32_t level, const char *message) }
  TSellSyncLogCallback = procedure(User: Pointer; Level: Int32; Message: PAnsiChar); cdecl;

var
  { The C API, bound by LoadSellSync. Strings returned through a PPAnsiCharOut are the
    caller's, freed with sellsync_string_free; sellsync_version, sellsync_status_str and
    sellsync_last_error return static or per-thread text that is not freed. }
  sellsync_version: function: PAnsiChar; cdecl;
  sellsync_version_number: function: UInt32; cdecl;
  sellsync_status_str: function(Code: TSellSyncStatus): PAnsiChar; cdecl;
  sellsync_last_error: function: PAnsiChar; cdecl;
  sellsync_string_free: procedure(S: PAnsiChar); cdecl;
  sellsync_open: function(ConfigJson: PAnsiChar; Out_: PPSellSyncHandle): TSellSyncStatus; cdecl;
  sellsync_close: function(H: PSellSyncHandle): TSellSyncStatus; cdecl;
  sellsync_set_credentials: function(H: PSellSyncHandle; CredentialsJson: PAnsiChar): TSellSyncStatus; cdecl;
  sellsync_sync_now: function(H: PSellSyncHandle; Flows: UInt32): TSellSyncStatus; cdecl;
  sellsync_start: function(H: PSellSyncHandle): TSellSyncStatus; cdecl;
  sellsync_stop: function(H: PSellSyncHandle): TSellSyncStatus; cdecl;
  sellsync_order_next: function(H: PSellSyncHandle; OrderJson: PPAnsiCharOut): TSellSyncStatus; cdecl;
  sellsync_order_ack: function(H: PSellSyncHandle; OrderId, HostRef: PAnsiChar): TSellSyncStatus; cdecl;
  sellsync_purge_buyer_data: function(H: PSellSyncHandle; OrderId: PAnsiChar): TSellSyncStatus; cdecl;
  sellsync_event_next: function(H: PSellSyncHandle; TimeoutMs: Int32; EventJson: PPAnsiCharOut): TSellSyncStatus; cdecl;
  sellsync_set_event_callback: function(H: PSellSyncHandle; Cb: TSellSyncEventCallback; User: Pointer;
    FreeUser: TSellSyncFreeUser): TSellSyncStatus; cdecl;
  sellsync_stock_set: function(H: PSellSyncHandle; HostItem: PAnsiChar; OnHand: Int64): TSellSyncStatus; cdecl;
  sellsync_stock_set_batch: function(H: PSellSyncHandle; LevelsJson: PAnsiChar): TSellSyncStatus; cdecl;
  sellsync_sku_map: function(H: PSellSyncHandle; MappingJson: PAnsiChar): TSellSyncStatus; cdecl;
  sellsync_listings: function(H: PSellSyncHandle; ListingsJson: PPAnsiCharOut): TSellSyncStatus; cdecl;
  sellsync_fba_stock: function(H: PSellSyncHandle; FbaJson: PPAnsiCharOut): TSellSyncStatus; cdecl;
  sellsync_notifications_setup: function(H: PSellSyncHandle; SetupJson: PPAnsiCharOut): TSellSyncStatus; cdecl;
  sellsync_shipment_confirm: function(H: PSellSyncHandle; ShipmentJson: PAnsiChar): TSellSyncStatus; cdecl;
  sellsync_shipments: function(H: PSellSyncHandle; OrderId: PAnsiChar; ShipmentsJson: PPAnsiCharOut): TSellSyncStatus; cdecl;
  sellsync_order_cancel: function(H: PSellSyncHandle; OrderId, Reason: PAnsiChar): TSellSyncStatus; cdecl;
  sellsync_order_refund: function(H: PSellSyncHandle; RefundJson: PAnsiChar): TSellSyncStatus; cdecl;
  sellsync_price_set: function(H: PSellSyncHandle; PricesJson: PAnsiChar): TSellSyncStatus; cdecl;
  sellsync_price_confirm: function(H: PSellSyncHandle; Sku, MarketplaceId: PAnsiChar): TSellSyncStatus; cdecl;
  sellsync_prices: function(H: PSellSyncHandle; PricesJson: PPAnsiCharOut): TSellSyncStatus; cdecl;
  sellsync_metrics: function(H: PSellSyncHandle; QueryJson: PAnsiChar; MetricsJson: PPAnsiCharOut): TSellSyncStatus; cdecl;
  sellsync_state: function(H: PSellSyncHandle; StateJson: PPAnsiCharOut): TSellSyncStatus; cdecl;
  sellsync_order_cancel_items: function(H: PSellSyncHandle; CancelJson: PAnsiChar): TSellSyncStatus; cdecl;
  sellsync_event_ack: function(H: PSellSyncHandle; Seq: Int64): TSellSyncStatus; cdecl;
  sellsync_event_decline: function(H: PSellSyncHandle; Seq: Int64): TSellSyncStatus; cdecl;
  sellsync_set_log_callback: function(H: PSellSyncHandle; Level: Int32; Cb: TSellSyncLogCallback; User: Pointer;
    FreeUser: TSellSyncFreeUser): TSellSyncStatus; cdecl;

type
  { The library is missing, lacks an export, or has another major version. }
  ESellSyncLibrary = class(Exception);

  { A failed call: Code is its status (SELLSYNC_ERR_*), Detail the library's message
    (sellsync_last_error, read right after the call on the same thread; never a secret).
    Message is '<STATUS NAME>: <Detail>'. }
  ESellSync = class(Exception)
  private
    FCode: TSellSyncStatus;
    FDetail: UTF8String;
  public
    constructor CreateStatus(ACode: TSellSyncStatus; const ADetail: UTF8String);
    property Code: TSellSyncStatus read FCode;
    property Detail: UTF8String read FDetail;
  end;
  ESellSyncClass = class of ESellSync;

  ESellSyncInvalidArgument = class(ESellSync); { NULL, not UTF-8, malformed JSON, out of range }
  ESellSyncConfig = class(ESellSync);          { the configuration is incomplete or inconsistent }
  ESellSyncAuth = class(ESellSync);            { Amazon refused the credentials or the token }
  ESellSyncThrottled = class(ESellSync);       { Amazon kept throttling after every retry }
  ESellSyncNetwork = class(ESellSync);         { Amazon unreachable or its answer unreadable }
  ESellSyncAmazon = class(ESellSync);          { Amazon answered with an error }
  ESellSyncStore = class(ESellSync);           { the local store failed }
  ESellSyncNotFound = class(ESellSync);        { no such order or item }
  ESellSyncConflict = class(ESellSync);        { contradicts what was recorded before }
  ESellSyncTimeout = class(ESellSync);         { the call did not finish in time }
  ESellSyncClosed = class(ESellSync);          { the handle is closed }
  ESellSyncInvalidState = class(ESellSync);    { not allowed now (e.g. Close in the event callback) }
  ESellSyncForked = class(ESellSync);          { the handle was opened in another process }
  ESellSyncInternal = class(ESellSync);        { a bug inside the library; the handle stays usable }

  TSellSync = class;

  { An event document (JSON), living for the call only: copy what is kept. }
  TSellSyncEventHandler = procedure(Sender: TSellSync; const EventJson: UTF8String) of object;
  { One line of the library's log at Level (SELLSYNC_LOG_*). Runs on any thread, possibly
    several at once: it must be thread-safe and quick. }
  TSellSyncLogHandler = procedure(Sender: TSellSync; Level: Integer; const Message: UTF8String) of object;

  { One seller account: a handle of the library. Thread-safe, like the handle. Free (or
    Close) stops the worker and the callback thread and flushes the store; any call after
    Close raises ESellSyncClosed. }
  TSellSync = class
  private
    FHandle: PSellSyncHandle;
    FClosed: Integer;
    FCallbackErrors: Integer;
    function Live: PSellSyncHandle;
    function GetClosed: Boolean;
    function GetCallbackErrors: Integer;
  public
    { sellsync_open: ConfigJson is the configuration document (see the README). }
    constructor Create(const ConfigJson: UTF8String);
    { The configuration document read from a UTF-8 file. }
    constructor CreateFromFile(const FileName: string);
    { Closes the handle if still open, never raising; not inside a callback, where the
      library refuses to close (use Close there, which raises ESellSyncInvalidState). }
    destructor Destroy; override;
    { sellsync_close; again after success does nothing. Raises ESellSyncInvalidState inside
      the event callback (the handle stays open). }
    procedure Close;
    procedure SetCredentials(const CredentialsJson: UTF8String);
    procedure SyncNow(Flows: UInt32 = SELLSYNC_FLOW_ALL);
    procedure Start;
    procedure Stop;
    { The oldest order ready for the host, False when there is none. }
    function OrderNext(out OrderJson: UTF8String): Boolean;
    procedure OrderAck(const OrderId, HostRef: UTF8String);
    procedure PurgeBuyerData(const OrderId: UTF8String);
    { The oldest event not acknowledged; waits up to TimeoutMs (0: no wait, -1: until one
      arrives or the handle closes); False on timeout. }
    function EventNext(TimeoutMs: Int32; out EventJson: UTF8String): Boolean;
    procedure EventAck(Seq: Int64);
    { Sets the event callback (nil removes it): events go to Handler instead of EventNext,
      each acknowledged when Handler returns. }
    procedure SetEventCallback(Handler: TSellSyncEventHandler);
    { Sets the log callback for lines at Level or more severe (nil removes it). }
    procedure SetLogCallback(Level: Int32; Handler: TSellSyncLogHandler);
    procedure StockSet(const HostItem: UTF8String; OnHand: Int64);
    procedure StockSetBatch(const LevelsJson: UTF8String);
    procedure SkuMap(const MappingJson: UTF8String);
    function Listings: UTF8String;
    { The stock at Amazon of the SKUs it fulfils, as last read with the listings. }
    function FbaStock: UTF8String;
    function NotificationsSetup: UTF8String;
    procedure ShipmentConfirm(const ShipmentJson: UTF8String);
    { The packages of every order with a package not yet at Amazon. }
    function Shipments: UTF8String; overload;
    { The packages of one order. }
    function Shipments(const OrderId: UTF8String): UTF8String; overload;
    procedure OrderCancel(const OrderId, Reason: UTF8String);
    procedure OrderCancelItems(const CancelJson: UTF8String);
    procedure OrderRefund(const RefundJson: UTF8String);
    { Sets prices per SKU and marketplace (a prices_json document), all or nothing. }
    procedure PriceSet(const PricesJson: UTF8String);
    { Confirms the price of Sku in MarketplaceId that waits for it. }
    procedure PriceConfirm(const Sku, MarketplaceId: UTF8String);
    { Every price set and where it stands. }
    function Prices: UTF8String;
    { Seller performance with the default query. }
    function Metrics: UTF8String; overload;
    function Metrics(const QueryJson: UTF8String): UTF8String; overload;
    function State: UTF8String;
    { The native pointer (for the C API directly); stays valid after Close (a tombstone). }
    property Handle: PSellSyncHandle read FHandle;
    property Closed: Boolean read GetClosed;
    { Exceptions that escaped this handle's callbacks (caught, never passed to the library). }
    property CallbackErrors: Integer read GetCallbackErrors;
  end;

{ Loads the library (see the unit's comment) and binds every export; Path, when given, is
  the file to load. Does nothing once loaded. Raises ESellSyncLibrary. }
procedure LoadSellSync(const Path: string = '');
function SellSyncLoaded: Boolean;
{ Raises ESellSyncLibrary unless Number (a sellsync_version_number) has this unit's major version. }
procedure SellSyncCheckVersion(Number: UInt32);

function SellSyncVersion: UTF8String;
function SellSyncVersionNumber: UInt32;
{ The static text of a status code. }
function SellSyncStatusStr(Code: TSellSyncStatus): UTF8String;
{ The status's name as in the header without SELLSYNC_ERR_ ('NOT_FOUND'; 'OK' for 0). }
function SellSyncStatusName(Code: TSellSyncStatus): string;
{ The message of this thread's last failed call ('' after a success). }
function SellSyncLastError: UTF8String;
{ The exception class of a status code (ESellSync itself for a code this unit does not know). }
function SellSyncErrorClass(Code: TSellSyncStatus): ESellSyncClass;
{ Raises the exception of a non-zero status with this thread's last error; nothing for 0. }
procedure SellSyncCheck(Status: TSellSyncStatus);

{ A string member of a JSON object, at its top level, decoded ('' when absent); for a
  number, true, false or null, its text. Enough to read an order's "order_id" or an event's
  "type" without a JSON library; ESellSyncInvalidArgument when Json is not an object. }
function SellSyncJsonMember(const Json, Name: UTF8String): UTF8String;

{ Strings the library handed out, and how many of them were freed (they are equal between
  calls). }
function SellSyncStringsTaken: Int64;
function SellSyncStringsFreed: Int64;
{ Callback registrations the library holds now (each freed when it lets go of it). }
function SellSyncCallbacksAlive: Integer;

implementation

type
  {$IFDEF FPC}
  TLib = TLibHandle;
  {$ELSE}
  TLib = HMODULE;
  {$ENDIF}

  {$IFDEF FPC}
  TFpuMask = TFPUExceptionMask;
  {$ELSE}
  TFpuMask = TArithmeticExceptionMask;
  {$ENDIF}

  { One registered callback: `user` points at it; free_user frees it. }
  TRegistration = class
    Owner: TSellSync;
    OnEvent: TSellSyncEventHandler;
    OnLog: TSellSyncLogHandler;
  end;

var
  GLock: TCriticalSection;
  GLoaded: Boolean;
  GStringsTaken: Int64;
  GStringsFreed: Int64;
  GCallbacksAlive: Integer;

{ ---- atomics ---- }

function AtomicInc(var Target: Integer): Integer;
begin
  {$IFDEF FPC}
  Result := InterlockedIncrement(Target);
  {$ELSE}
  Result := TInterlocked.Increment(Target);
  {$ENDIF}
end;

function AtomicDec(var Target: Integer): Integer;
begin
  {$IFDEF FPC}
  Result := InterlockedDecrement(Target);
  {$ELSE}
  Result := TInterlocked.Decrement(Target);
  {$ENDIF}
end;

function AtomicSwap(var Target: Integer; Value: Integer): Integer;
begin
  {$IFDEF FPC}
  Result := InterlockedExchange(Target, Value);
  {$ELSE}
  Result := TInterlocked.Exchange(Target, Value);
  {$ENDIF}
end;

function AtomicGet(var Target: Integer): Integer;
begin
  {$IFDEF FPC}
  Result := InterlockedCompareExchange(Target, 0, 0);
  {$ELSE}
  Result := TInterlocked.CompareExchange(Target, 0, 0);
  {$ENDIF}
end;

procedure AtomicInc64(var Target: Int64);
begin
  {$IFDEF FPC}
  InterlockedIncrement64(Target);
  {$ELSE}
  TInterlocked.Increment(Target);
  {$ENDIF}
end;

function AtomicGet64(var Target: Int64): Int64;
begin
  {$IFDEF FPC}
  Result := InterlockedCompareExchange64(Target, 0, 0);
  {$ELSE}
  Result := TInterlocked.Read(Target);
  {$ENDIF}
end;

{ ---- floating point ---- }

function EnterLibrary: TFpuMask;
begin
  Result := GetExceptionMask;
  SetExceptionMask([exInvalidOp, exDenormalized, exZeroDivide, exOverflow, exUnderflow, exPrecision]);
end;

procedure LeaveLibrary(const Saved: TFpuMask);
begin
  ClearExceptions(False);
  SetExceptionMask(Saved);
end;

{ ---- loading ---- }

function LibError: string;
begin
  {$IFDEF FPC}
  Result := GetLoadErrorStr;
  {$ELSE}
  {$IFDEF MSWINDOWS}
  Result := SysErrorMessage(GetLastError);
  {$ELSE}
  Result := 'the system loader refused it';
  {$ENDIF}
  {$ENDIF}
end;

function OpenLib(const Path: string): TLib;
begin
  {$IFDEF FPC}
  Result := LoadLibrary(Path);
  {$ELSE}
  Result := LoadLibrary(PChar(Path));
  {$ENDIF}
end;

function Symbol(Lib: TLib; const Name: AnsiString): Pointer;
begin
  {$IFDEF FPC}
  Result := GetProcedureAddress(Lib, Name);
  {$ELSE}
  {$IFDEF MSWINDOWS}
  Result := GetProcAddress(Lib, PAnsiChar(Name));
  {$ELSE}
  Result := GetProcAddress(Lib, PChar(string(Name)));
  {$ENDIF}
  {$ENDIF}
end;

procedure Bind(Lib: TLib; const Name: AnsiString; var Slot);
var
  P: Pointer;
begin
  P := Symbol(Lib, Name);
  if P = nil then
    raise ESellSyncLibrary.CreateFmt('the sellsync library loaded lacks the export %s ' +
      '(a library older than this unit?)', [string(Name)]);
  Pointer(Slot) := P;
end;

procedure SellSyncCheckVersion(Number: UInt32);
begin
  if Number div 10000 <> SELLSYNC_BINDING_MAJOR then
    raise ESellSyncLibrary.CreateFmt('the sellsync library is version %d.%d.%d (major version %d), ' +
      'but this unit needs major version %d',
      [Number div 10000, Number div 100 mod 100, Number mod 100, Number div 10000, SELLSYNC_BINDING_MAJOR]);
end;

procedure LoadSellSync(const Path: string);
var
  FileName, Where: string;
  Lib: TLib;
begin
  GLock.Enter;
  try
    if GLoaded then
      Exit;
    if Path <> '' then
    begin
      FileName := Path;
      Where := 'LoadSellSync';
    end
    else
    begin
      FileName := GetEnvironmentVariable('SELLSYNC_LIBRARY');
      Where := 'SELLSYNC_LIBRARY';
      if FileName = '' then
      begin
        FileName := SELLSYNC_LIBRARY_NAME;
        Where := 'the system''s library search path';
      end;
    end;
    Lib := OpenLib(FileName);
    if Lib = TLib(0) then
      raise ESellSyncLibrary.CreateFmt('the sellsync library %s (from %s) could not be loaded: %s',
        [FileName, Where, LibError]);
    Bind(Lib, 'sellsync_version', sellsync_version);
    Bind(Lib, 'sellsync_version_number', sellsync_version_number);
    Bind(Lib, 'sellsync_status_str', sellsync_status_str);
    Bind(Lib, 'sellsync_last_error', sellsync_last_error);
    Bind(Lib, 'sellsync_string_free', sellsync_string_free);
    Bind(Lib, 'sellsync_open', sellsync_open);
    Bind(Lib, 'sellsync_close', sellsync_close);
    Bind(Lib, 'sellsync_set_credentials', sellsync_set_credentials);
    Bind(Lib, 'sellsync_sync_now', sellsync_sync_now);
    Bind(Lib, 'sellsync_start', sellsync_start);
    Bind(Lib, 'sellsync_stop', sellsync_stop);
    Bind(Lib, 'sellsync_order_next', sellsync_order_next);
    Bind(Lib, 'sellsync_order_ack', sellsync_order_ack);
    Bind(Lib, 'sellsync_purge_buyer_data', sellsync_purge_buyer_data);
    Bind(Lib, 'sellsync_event_next', sellsync_event_next);
    Bind(Lib, 'sellsync_set_event_callback', sellsync_set_event_callback);
    Bind(Lib, 'sellsync_stock_set', sellsync_stock_set);
    Bind(Lib, 'sellsync_stock_set_batch', sellsync_stock_set_batch);
    Bind(Lib, 'sellsync_sku_map', sellsync_sku_map);
    Bind(Lib, 'sellsync_listings', sellsync_listings);
    Bind(Lib, 'sellsync_fba_stock', sellsync_fba_stock);
    Bind(Lib, 'sellsync_notifications_setup', sellsync_notifications_setup);
    Bind(Lib, 'sellsync_shipment_confirm', sellsync_shipment_confirm);
    Bind(Lib, 'sellsync_shipments', sellsync_shipments);
    Bind(Lib, 'sellsync_order_cancel', sellsync_order_cancel);
    Bind(Lib, 'sellsync_order_refund', sellsync_order_refund);
    Bind(Lib, 'sellsync_price_set', sellsync_price_set);
    Bind(Lib, 'sellsync_price_confirm', sellsync_price_confirm);
    Bind(Lib, 'sellsync_prices', sellsync_prices);
    Bind(Lib, 'sellsync_metrics', sellsync_metrics);
    Bind(Lib, 'sellsync_state', sellsync_state);
    Bind(Lib, 'sellsync_order_cancel_items', sellsync_order_cancel_items);
    Bind(Lib, 'sellsync_event_ack', sellsync_event_ack);
    Bind(Lib, 'sellsync_event_decline', sellsync_event_decline);
    Bind(Lib, 'sellsync_set_log_callback', sellsync_set_log_callback);
    SellSyncCheckVersion(sellsync_version_number());
    GLoaded := True;
  finally
    GLock.Leave;
  end;
end;

function SellSyncLoaded: Boolean;
begin
  GLock.Enter;
  try
    Result := GLoaded;
  finally
    GLock.Leave;
  end;
end;

procedure EnsureLoaded;
begin
  if not SellSyncLoaded then
    LoadSellSync('');
end;

{ ---- strings ---- }

{ A NUL-terminated UTF-8 copy of S for the library (nil for nil is not needed: an empty
  UTF8String gives ""). A NUL inside would cut the string short: refused. }
function StrIn(const S: UTF8String; const Name: string): PAnsiChar;
var
  I: Integer;
begin
  for I := 1 to Length(S) do
    if S[I] = #0 then
      raise ESellSyncInvalidArgument.CreateStatus(SELLSYNC_ERR_INVALID_ARGUMENT,
      UTF8String(Name + ' contains a NUL character'));
  Result := PAnsiChar(S);
end;

{ The UTF-8 text at P, copied ('' for nil). }
function StrOut(P: PAnsiChar): UTF8String;
var
  N: Integer;
begin
  Result := '';
  if P = nil then
    Exit;
  N := 0;
  while P[N] <> #0 do
    Inc(N);
  SetLength(Result, N);
  if N > 0 then
    Move(P^, Result[1], N);
end;

{ ---- statuses and exceptions ---- }

const
  StatusNames: array[0..14] of string = ('OK', 'INVALID_ARGUMENT', 'CONFIG', 'AUTH', 'THROTTLED',
    'NETWORK', 'AMAZON', 'STORE', 'NOT_FOUND', 'CONFLICT', 'TIMEOUT', 'CLOSED', 'INVALID_STATE',
    'FORKED', 'INTERNAL');

function SellSyncStatusName(Code: TSellSyncStatus): string;
begin
  if (Code >= Low(StatusNames)) and (Code <= High(StatusNames)) then
    Result := StatusNames[Code]
  else
    Result := 'UNKNOWN(' + IntToStr(Code) + ')';
end;

constructor ESellSync.CreateStatus(ACode: TSellSyncStatus; const ADetail: UTF8String);
begin
  {$IFDEF FPC}
  { Free Pascal's string is single-byte: keep the UTF-8 bytes as they are. }
  inherited Create(SellSyncStatusName(ACode) + ': ' + RawByteString(ADetail));
  {$ELSE}
  inherited Create(SellSyncStatusName(ACode) + ': ' + string(ADetail));
  {$ENDIF}
  FCode := ACode;
  FDetail := ADetail;
end;

function SellSyncErrorClass(Code: TSellSyncStatus): ESellSyncClass;
begin
  case Code of
    SELLSYNC_ERR_INVALID_ARGUMENT: Result := ESellSyncInvalidArgument;
    SELLSYNC_ERR_CONFIG: Result := ESellSyncConfig;
    SELLSYNC_ERR_AUTH: Result := ESellSyncAuth;
    SELLSYNC_ERR_THROTTLED: Result := ESellSyncThrottled;
    SELLSYNC_ERR_NETWORK: Result := ESellSyncNetwork;
    SELLSYNC_ERR_AMAZON: Result := ESellSyncAmazon;
    SELLSYNC_ERR_STORE: Result := ESellSyncStore;
    SELLSYNC_ERR_NOT_FOUND: Result := ESellSyncNotFound;
    SELLSYNC_ERR_CONFLICT: Result := ESellSyncConflict;
    SELLSYNC_ERR_TIMEOUT: Result := ESellSyncTimeout;
    SELLSYNC_ERR_CLOSED: Result := ESellSyncClosed;
    SELLSYNC_ERR_INVALID_STATE: Result := ESellSyncInvalidState;
    SELLSYNC_ERR_FORKED: Result := ESellSyncForked;
    SELLSYNC_ERR_INTERNAL: Result := ESellSyncInternal;
  else
    Result := ESellSync;
  end;
end;

procedure SellSyncCheck(Status: TSellSyncStatus);
var
  Detail: UTF8String;
begin
  if Status = SELLSYNC_OK then
    Exit;
  { Read at once, on the thread of the failed call. }
  Detail := StrOut(sellsync_last_error());
  if Detail = '' then
    Detail := StrOut(sellsync_status_str(Status));
  raise SellSyncErrorClass(Status).CreateStatus(Status, Detail);
end;

function SellSyncVersion: UTF8String;
begin
  EnsureLoaded;
  Result := StrOut(sellsync_version());
end;

function SellSyncVersionNumber: UInt32;
begin
  EnsureLoaded;
  Result := sellsync_version_number();
end;

function SellSyncStatusStr(Code: TSellSyncStatus): UTF8String;
begin
  EnsureLoaded;
  Result := StrOut(sellsync_status_str(Code));
end;

function SellSyncLastError: UTF8String;
begin
  EnsureLoaded;
  Result := StrOut(sellsync_last_error());
end;

function SellSyncStringsTaken: Int64;
begin
  Result := AtomicGet64(GStringsTaken);
end;

function SellSyncStringsFreed: Int64;
begin
  Result := AtomicGet64(GStringsFreed);
end;

function SellSyncCallbacksAlive: Integer;
begin
  Result := AtomicGet(GCallbacksAlive);
end;

{ Takes a string the library handed out: copies it, frees it, then raises for a failed
  status (the library writes the string only on success). }
function TakeString(Status: TSellSyncStatus; P: PAnsiChar; out S: UTF8String): Boolean;
begin
  S := '';
  Result := P <> nil;
  if P <> nil then
  begin
    AtomicInc64(GStringsTaken);
    try
      S := StrOut(P);
    finally
      sellsync_string_free(P);
      AtomicInc64(GStringsFreed);
    end;
  end;
  SellSyncCheck(Status);
end;

{ ---- callbacks ---- }

procedure EventTrampoline(User: Pointer; EventJson: PAnsiChar); cdecl;
var
  R: TRegistration;
begin
  R := TRegistration(User);
  try
    R.OnEvent(R.Owner, StrOut(EventJson));
  except
    { Never unwind into the library; the event was not handled, so it comes again. }
    AtomicInc(R.Owner.FCallbackErrors);
    try
      sellsync_event_decline(R.Owner.FHandle, StrToInt64(SellSyncJsonMember(StrOut(EventJson), 'seq')));
    except
    end;
  end;
end;

procedure LogTrampoline(User: Pointer; Level: Int32; Message: PAnsiChar); cdecl;
var
  R: TRegistration;
begin
  R := TRegistration(User);
  try
    R.OnLog(R.Owner, Level, StrOut(Message));
  except
    AtomicInc(R.Owner.FCallbackErrors);
  end;
end;

procedure FreeUserTrampoline(User: Pointer); cdecl;
begin
  try
    TRegistration(User).Free;
    AtomicDec(GCallbacksAlive);
  except
    { Nothing sensible to do on a library thread. }
  end;
end;

procedure CheckThreads;
{$IFDEF FPC}{$IFDEF UNIX}
var
  TM: TThreadManager;
{$ENDIF}{$ENDIF}
begin
  {$IFDEF FPC}{$IFDEF UNIX}
  GetThreadManager(TM);
  if not Assigned(TM.InitManager) then
    raise ESellSyncLibrary.Create('the library calls callbacks on its own threads: ' +
      'name cthreads first in the program''s uses clause');
  {$ENDIF}{$ENDIF}
end;

{ ---- TSellSync ---- }

constructor TSellSync.Create(const ConfigJson: UTF8String);
var
  H: PSellSyncHandle;
  St: TSellSyncStatus;
  Saved: TFpuMask;
begin
  inherited Create;
  EnsureLoaded;
  FClosed := 1; { until opened: Destroy after a failed open closes nothing }
  H := nil;
  Saved := EnterLibrary;
  try
    St := sellsync_open(StrIn(ConfigJson, 'config_json'), @H);
  finally
    LeaveLibrary(Saved);
  end;
  SellSyncCheck(St);
  FHandle := H;
  FClosed := 0;
end;

constructor TSellSync.CreateFromFile(const FileName: string);
var
  Stream: TFileStream;
  Text: UTF8String;
begin
  Stream := TFileStream.Create(FileName, fmOpenRead or fmShareDenyWrite);
  try
    SetLength(Text, Stream.Size);
    if Length(Text) > 0 then
      Stream.ReadBuffer(Text[1], Length(Text));
  finally
    Stream.Free;
  end;
  Create(Text);
end;

destructor TSellSync.Destroy;
var
  Saved: TFpuMask;
begin
  if (FHandle <> nil) and (AtomicSwap(FClosed, 1) = 0) then
  begin
    Saved := EnterLibrary;
    try
      sellsync_close(FHandle);
    finally
      LeaveLibrary(Saved);
    end;
  end;
  inherited Destroy;
end;

procedure TSellSync.Close;
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
begin
  if GetClosed then
    Exit;
  Saved := EnterLibrary;
  try
    St := sellsync_close(FHandle);
  finally
    LeaveLibrary(Saved);
  end;
  { Refused (inside the event callback): still open. }
  if St <> SELLSYNC_ERR_INVALID_STATE then
    AtomicSwap(FClosed, 1);
  SellSyncCheck(St);
end;

function TSellSync.GetClosed: Boolean;
begin
  Result := AtomicGet(FClosed) <> 0;
end;

function TSellSync.GetCallbackErrors: Integer;
begin
  Result := AtomicGet(FCallbackErrors);
end;

{ The pointer, also after Close: the library's tombstone answers SELLSYNC_ERR_CLOSED with
  its message, and a call racing with Close never touches freed memory. }
function TSellSync.Live: PSellSyncHandle;
begin
  Result := FHandle;
end;

procedure TSellSync.SetCredentials(const CredentialsJson: UTF8String);
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
begin
  Saved := EnterLibrary;
  try
    St := sellsync_set_credentials(Live, StrIn(CredentialsJson, 'credentials_json'));
  finally
    LeaveLibrary(Saved);
  end;
  SellSyncCheck(St);
end;

procedure TSellSync.SyncNow(Flows: UInt32);
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
begin
  Saved := EnterLibrary;
  try
    St := sellsync_sync_now(Live, Flows);
  finally
    LeaveLibrary(Saved);
  end;
  SellSyncCheck(St);
end;

procedure TSellSync.Start;
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
begin
  Saved := EnterLibrary;
  try
    St := sellsync_start(Live);
  finally
    LeaveLibrary(Saved);
  end;
  SellSyncCheck(St);
end;

procedure TSellSync.Stop;
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
begin
  Saved := EnterLibrary;
  try
    St := sellsync_stop(Live);
  finally
    LeaveLibrary(Saved);
  end;
  SellSyncCheck(St);
end;

function TSellSync.OrderNext(out OrderJson: UTF8String): Boolean;
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
  P: PAnsiChar;
begin
  P := nil;
  Saved := EnterLibrary;
  try
    St := sellsync_order_next(Live, @P);
  finally
    LeaveLibrary(Saved);
  end;
  Result := TakeString(St, P, OrderJson);
end;

procedure TSellSync.OrderAck(const OrderId, HostRef: UTF8String);
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
  A, B: PAnsiChar;
begin
  A := StrIn(OrderId, 'order_id');
  B := StrIn(HostRef, 'host_ref');
  Saved := EnterLibrary;
  try
    St := sellsync_order_ack(Live, A, B);
  finally
    LeaveLibrary(Saved);
  end;
  SellSyncCheck(St);
end;

procedure TSellSync.PurgeBuyerData(const OrderId: UTF8String);
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
begin
  Saved := EnterLibrary;
  try
    St := sellsync_purge_buyer_data(Live, StrIn(OrderId, 'order_id'));
  finally
    LeaveLibrary(Saved);
  end;
  SellSyncCheck(St);
end;

function TSellSync.EventNext(TimeoutMs: Int32; out EventJson: UTF8String): Boolean;
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
  P: PAnsiChar;
begin
  P := nil;
  Saved := EnterLibrary;
  try
    St := sellsync_event_next(Live, TimeoutMs, @P);
  finally
    LeaveLibrary(Saved);
  end;
  Result := TakeString(St, P, EventJson);
end;

procedure TSellSync.EventAck(Seq: Int64);
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
begin
  Saved := EnterLibrary;
  try
    St := sellsync_event_ack(Live, Seq);
  finally
    LeaveLibrary(Saved);
  end;
  SellSyncCheck(St);
end;

procedure TSellSync.SetEventCallback(Handler: TSellSyncEventHandler);
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
  R: TRegistration;
begin
  R := nil;
  if Assigned(Handler) then
  begin
    CheckThreads;
    R := TRegistration.Create;
    R.Owner := Self;
    R.OnEvent := Handler;
    AtomicInc(GCallbacksAlive);
  end;
  Saved := EnterLibrary;
  try
    if R <> nil then
      St := sellsync_set_event_callback(Live, EventTrampoline, R, FreeUserTrampoline)
    else
      St := sellsync_set_event_callback(Live, nil, nil, nil);
  finally
    LeaveLibrary(Saved);
  end;
  if (St <> SELLSYNC_OK) and (R <> nil) then
  begin
    { Refused: the library never calls free_user for it. }
    R.Free;
    AtomicDec(GCallbacksAlive);
  end;
  SellSyncCheck(St);
end;

procedure TSellSync.SetLogCallback(Level: Int32; Handler: TSellSyncLogHandler);
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
  R: TRegistration;
begin
  R := nil;
  if Assigned(Handler) then
  begin
    CheckThreads;
    R := TRegistration.Create;
    R.Owner := Self;
    R.OnLog := Handler;
    AtomicInc(GCallbacksAlive);
  end;
  Saved := EnterLibrary;
  try
    if R <> nil then
      St := sellsync_set_log_callback(Live, Level, LogTrampoline, R, FreeUserTrampoline)
    else
      St := sellsync_set_log_callback(Live, Level, nil, nil, nil);
  finally
    LeaveLibrary(Saved);
  end;
  if (St <> SELLSYNC_OK) and (R <> nil) then
  begin
    R.Free;
    AtomicDec(GCallbacksAlive);
  end;
  SellSyncCheck(St);
end;

procedure TSellSync.StockSet(const HostItem: UTF8String; OnHand: Int64);
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
begin
  Saved := EnterLibrary;
  try
    St := sellsync_stock_set(Live, StrIn(HostItem, 'host_item'), OnHand);
  finally
    LeaveLibrary(Saved);
  end;
  SellSyncCheck(St);
end;

procedure TSellSync.StockSetBatch(const LevelsJson: UTF8String);
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
begin
  Saved := EnterLibrary;
  try
    St := sellsync_stock_set_batch(Live, StrIn(LevelsJson, 'levels_json'));
  finally
    LeaveLibrary(Saved);
  end;
  SellSyncCheck(St);
end;

procedure TSellSync.SkuMap(const MappingJson: UTF8String);
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
begin
  Saved := EnterLibrary;
  try
    St := sellsync_sku_map(Live, StrIn(MappingJson, 'mapping_json'));
  finally
    LeaveLibrary(Saved);
  end;
  SellSyncCheck(St);
end;

function TSellSync.Listings: UTF8String;
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
  P: PAnsiChar;
begin
  P := nil;
  Saved := EnterLibrary;
  try
    St := sellsync_listings(Live, @P);
  finally
    LeaveLibrary(Saved);
  end;
  TakeString(St, P, Result);
end;

function TSellSync.FbaStock: UTF8String;
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
  P: PAnsiChar;
begin
  P := nil;
  Saved := EnterLibrary;
  try
    St := sellsync_fba_stock(Live, @P);
  finally
    LeaveLibrary(Saved);
  end;
  TakeString(St, P, Result);
end;

function TSellSync.NotificationsSetup: UTF8String;
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
  P: PAnsiChar;
begin
  P := nil;
  Saved := EnterLibrary;
  try
    St := sellsync_notifications_setup(Live, @P);
  finally
    LeaveLibrary(Saved);
  end;
  TakeString(St, P, Result);
end;

procedure TSellSync.ShipmentConfirm(const ShipmentJson: UTF8String);
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
begin
  Saved := EnterLibrary;
  try
    St := sellsync_shipment_confirm(Live, StrIn(ShipmentJson, 'shipment_json'));
  finally
    LeaveLibrary(Saved);
  end;
  SellSyncCheck(St);
end;

function TSellSync.Shipments: UTF8String;
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
  P: PAnsiChar;
begin
  P := nil;
  Saved := EnterLibrary;
  try
    St := sellsync_shipments(Live, nil, @P);
  finally
    LeaveLibrary(Saved);
  end;
  TakeString(St, P, Result);
end;

function TSellSync.Shipments(const OrderId: UTF8String): UTF8String;
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
  P: PAnsiChar;
  A: PAnsiChar;
begin
  P := nil;
  A := StrIn(OrderId, 'order_id');
  Saved := EnterLibrary;
  try
    St := sellsync_shipments(Live, A, @P);
  finally
    LeaveLibrary(Saved);
  end;
  TakeString(St, P, Result);
end;

procedure TSellSync.OrderCancel(const OrderId, Reason: UTF8String);
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
  A, B: PAnsiChar;
begin
  A := StrIn(OrderId, 'order_id');
  B := StrIn(Reason, 'reason');
  Saved := EnterLibrary;
  try
    St := sellsync_order_cancel(Live, A, B);
  finally
    LeaveLibrary(Saved);
  end;
  SellSyncCheck(St);
end;

procedure TSellSync.OrderCancelItems(const CancelJson: UTF8String);
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
begin
  Saved := EnterLibrary;
  try
    St := sellsync_order_cancel_items(Live, StrIn(CancelJson, 'cancel_json'));
  finally
    LeaveLibrary(Saved);
  end;
  SellSyncCheck(St);
end;

procedure TSellSync.OrderRefund(const RefundJson: UTF8String);
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
begin
  Saved := EnterLibrary;
  try
    St := sellsync_order_refund(Live, StrIn(RefundJson, 'refund_json'));
  finally
    LeaveLibrary(Saved);
  end;
  SellSyncCheck(St);
end;

procedure TSellSync.PriceSet(const PricesJson: UTF8String);
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
begin
  Saved := EnterLibrary;
  try
    St := sellsync_price_set(Live, StrIn(PricesJson, 'prices_json'));
  finally
    LeaveLibrary(Saved);
  end;
  SellSyncCheck(St);
end;

procedure TSellSync.PriceConfirm(const Sku, MarketplaceId: UTF8String);
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
  A, B: PAnsiChar;
begin
  A := StrIn(Sku, 'sku');
  B := StrIn(MarketplaceId, 'marketplace_id');
  Saved := EnterLibrary;
  try
    St := sellsync_price_confirm(Live, A, B);
  finally
    LeaveLibrary(Saved);
  end;
  SellSyncCheck(St);
end;

function TSellSync.Prices: UTF8String;
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
  P: PAnsiChar;
begin
  P := nil;
  Saved := EnterLibrary;
  try
    St := sellsync_prices(Live, @P);
  finally
    LeaveLibrary(Saved);
  end;
  TakeString(St, P, Result);
end;

function TSellSync.Metrics: UTF8String;
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
  P: PAnsiChar;
begin
  P := nil;
  Saved := EnterLibrary;
  try
    St := sellsync_metrics(Live, nil, @P);
  finally
    LeaveLibrary(Saved);
  end;
  TakeString(St, P, Result);
end;

function TSellSync.Metrics(const QueryJson: UTF8String): UTF8String;
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
  P, A: PAnsiChar;
begin
  P := nil;
  A := StrIn(QueryJson, 'query_json');
  Saved := EnterLibrary;
  try
    St := sellsync_metrics(Live, A, @P);
  finally
    LeaveLibrary(Saved);
  end;
  TakeString(St, P, Result);
end;

function TSellSync.State: UTF8String;
var
  Saved: TFpuMask;
  St: TSellSyncStatus;
  P: PAnsiChar;
begin
  P := nil;
  Saved := EnterLibrary;
  try
    St := sellsync_state(Live, @P);
  finally
    LeaveLibrary(Saved);
  end;
  TakeString(St, P, Result);
end;

{ ---- a JSON member ---- }

type
  { A UTF-8 text built byte by byte (no string conversion can touch it). }
  TBytesOut = record
    S: UTF8String;
    N: Integer;
  end;

procedure PutByte(var B: TBytesOut; C: Byte);
begin
  if B.N >= Length(B.S) then
    SetLength(B.S, 16 + 2 * Length(B.S));
  Inc(B.N);
  B.S[B.N] := AnsiChar(C);
end;

function Done(var B: TBytesOut): UTF8String;
begin
  SetLength(B.S, B.N);
  Result := B.S;
end;

procedure JsonFail(const What: string);
begin
  raise ESellSyncInvalidArgument.CreateStatus(SELLSYNC_ERR_INVALID_ARGUMENT, UTF8String('JSON: ' + What));
end;

procedure SkipSpace(const S: UTF8String; var I: Integer);
begin
  while (I <= Length(S)) and (S[I] in [' ', #9, #10, #13]) do
    Inc(I);
end;

procedure PutCodePoint(var B: TBytesOut; Cp: Cardinal);
begin
  if Cp < $80 then
    PutByte(B, Cp)
  else if Cp < $800 then
  begin
    PutByte(B, $C0 or (Cp shr 6));
    PutByte(B, $80 or (Cp and $3F));
  end
  else if Cp < $10000 then
  begin
    PutByte(B, $E0 or (Cp shr 12));
    PutByte(B, $80 or ((Cp shr 6) and $3F));
    PutByte(B, $80 or (Cp and $3F));
  end
  else
  begin
    PutByte(B, $F0 or (Cp shr 18));
    PutByte(B, $80 or ((Cp shr 12) and $3F));
    PutByte(B, $80 or ((Cp shr 6) and $3F));
    PutByte(B, $80 or (Cp and $3F));
  end;
end;

function Hex4(const S: UTF8String; I: Integer): Cardinal;
var
  K: Integer;
  C: AnsiChar;
begin
  Result := 0;
  if I + 3 > Length(S) then
    JsonFail('a short \u escape');
  for K := I to I + 3 do
  begin
    C := S[K];
    case C of
      '0'..'9': Result := Result * 16 + Cardinal(Ord(C) - Ord('0'));
      'a'..'f': Result := Result * 16 + Cardinal(Ord(C) - Ord('a') + 10);
      'A'..'F': Result := Result * 16 + Cardinal(Ord(C) - Ord('A') + 10);
    else
      JsonFail('a bad \u escape');
    end;
  end;
end;

{ The string literal at S[I] ('"'), decoded; I ends after its closing quote. }
function ReadString(const S: UTF8String; var I: Integer): UTF8String;
var
  B: TBytesOut;
  C: AnsiChar;
  Cp, Lo: Cardinal;
begin
  B.S := '';
  B.N := 0;
  Inc(I);
  while True do
  begin
    if I > Length(S) then
      JsonFail('an unterminated string');
    C := S[I];
    Inc(I);
    if C = '"' then
      Break;
    if C <> '\' then
    begin
      PutByte(B, Ord(C));
      Continue;
    end;
    if I > Length(S) then
      JsonFail('an unterminated string');
    C := S[I];
    Inc(I);
    case C of
      'n': PutByte(B, 10);
      't': PutByte(B, 9);
      'r': PutByte(B, 13);
      'b': PutByte(B, 8);
      'f': PutByte(B, 12);
      'u':
        begin
          Cp := Hex4(S, I);
          Inc(I, 4);
          if (Cp >= $D800) and (Cp < $DC00) and (I + 5 <= Length(S)) and (S[I] = '\') and (S[I + 1] = 'u') then
          begin
            Lo := Hex4(S, I + 2);
            if (Lo >= $DC00) and (Lo < $E000) then
            begin
              Cp := $10000 + ((Cp - $D800) shl 10) + (Lo - $DC00);
              Inc(I, 6);
            end;
          end;
          PutCodePoint(B, Cp);
        end;
    else
      PutByte(B, Ord(C)); { \" \\ \/ }
    end;
  end;
  Result := Done(B);
end;

{ Skips the value at S[I]; returns its text when it is a scalar other than a string. }
function SkipValue(const S: UTF8String; var I: Integer): UTF8String;
var
  Depth, Start: Integer;
begin
  Result := '';
  SkipSpace(S, I);
  if I > Length(S) then
    JsonFail('a value missing');
  case S[I] of
    '"': ReadString(S, I);
    '{', '[':
      begin
        Depth := 0;
        repeat
          if I > Length(S) then
            JsonFail('an unterminated object or array');
          case S[I] of
            '"':
              begin
                ReadString(S, I);
                Continue;
              end;
            '{', '[': Inc(Depth);
            '}', ']': Dec(Depth);
          end;
          Inc(I);
        until Depth = 0;
      end;
  else
    Start := I;
    while (I <= Length(S)) and not (S[I] in [',', '}', ']', ' ', #9, #10, #13]) do
      Inc(I);
    if I = Start then
      JsonFail('a value missing');
    Result := Copy(S, Start, I - Start);
  end;
end;

function SellSyncJsonMember(const Json, Name: UTF8String): UTF8String;
var
  I: Integer;
  Key: UTF8String;
begin
  Result := '';
  I := 1;
  SkipSpace(Json, I);
  if (I > Length(Json)) or (Json[I] <> '{') then
    JsonFail('not an object');
  Inc(I);
  while True do
  begin
    SkipSpace(Json, I);
    if I > Length(Json) then
      JsonFail('an unterminated object');
    if Json[I] = '}' then
      Exit;
    if Json[I] <> '"' then
      JsonFail('a member name expected');
    Key := ReadString(Json, I);
    SkipSpace(Json, I);
    if (I > Length(Json)) or (Json[I] <> ':') then
      JsonFail('":" expected');
    Inc(I);
    SkipSpace(Json, I);
    if Key = Name then
    begin
      if (I <= Length(Json)) and (Json[I] = '"') then
        Result := ReadString(Json, I)
      else
        Result := SkipValue(Json, I);
      Exit;
    end;
    SkipValue(Json, I);
    SkipSpace(Json, I);
    if (I <= Length(Json)) and (Json[I] = ',') then
      Inc(I)
    else if (I > Length(Json)) or (Json[I] <> '}') then
      JsonFail('"," or "}" expected');
  end;
end;

initialization
  { The library calls back on threads it starts itself: the memory manager must lock. }
  IsMultiThread := True;
  GLock := TCriticalSection.Create;

finalization
  GLock.Free;

end.
