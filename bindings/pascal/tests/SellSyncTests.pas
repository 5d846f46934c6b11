{ Tests of the Pascal binding against the real library and a running sellsync-emulator.

  usage: SellSyncTests EMULATOR_URL WORK_DIR REPO_DIR HELLO_EXE
  Each test has its own seller on the emulator and its own store, prints one line, and the
  run ends with "N passed, N failed" (exit code 1 when any failed). Free Pascal only (the
  binding itself also compiles with Delphi). }
program SellSyncTests;

{$mode delphi}
{$modeswitch nestedprocvars}
{$codepage utf8}
{$H+}

uses
  cthreads, cwstring, BaseUnix, Classes, SysUtils, DateUtils, Math, Process, fpjson, jsonparser,
  fphttpclient, SellSync;

const
  MARKETPLACE = 'ATVPDKIKX0DER';
  CLIENT_ID = 'amzn1.application-oa2-client.emulator';
  CLIENT_SECRET = 'emulator-client-secret';

type
  TCall = procedure is nested;
  TCond = function: Boolean is nested;

  ETestFailure = class(Exception);

  { What a call raised: its class and, for an ESellSync, code and detail. }
  TCaught = record
    Code: Integer;
    Detail: UTF8String;
    Message: string;
  end;

  { A seller of its own on the emulator, with listings, and the configuration to reach it. }
  TSeller = class
    Id: UTF8String;
    RefreshToken: UTF8String;
    Config: TJSONObject;
    constructor Create(const Skus: array of UTF8String);
    destructor Destroy; override;
    function ConfigJson: UTF8String;
    function Open: TSellSync;
    function PlaceOrders(Count: Integer; const Sku: UTF8String; Quantity: Integer): TStringList;
    function Quantity(const Sku: UTF8String): Int64;
    function Records(const Kind: string; Orders: TStrings): TJSONArray;
  end;

var
  EmulatorUrl, WorkDir, RepoDir, HelloExe: string;
  Run: string;
  Sellers: Integer;
  Passed, Failed: Integer;
  Garbage: TList;

{ ---- a tiny runner ---- }

procedure Fail(const What: string);
begin
  raise ETestFailure.Create(What);
end;

procedure Check(Condition: Boolean; const What: string);
begin
  if not Condition then
    Fail(What);
end;

procedure Equal(const Expected, Actual: UTF8String; const What: string); overload;
begin
  if Expected <> Actual then
    Fail(What + ': expected "' + string(Expected) + '", got "' + string(Actual) + '"');
end;

procedure Equal(Expected, Actual: Int64; const What: string); overload;
begin
  if Expected <> Actual then
    Fail(Format('%s: expected %d, got %d', [What, Expected, Actual]));
end;

{ Runs Call, which must raise exactly Cls; returns what it raised. }
function Raises(Cls: ExceptClass; Call: TCall; const What: string): TCaught;
begin
  Result.Code := 0;
  Result.Detail := '';
  Result.Message := '';
  try
    Call();
  except
    on E: Exception do
    begin
      if E.ClassType <> Cls then
        Fail(What + ': expected ' + Cls.ClassName + ', got ' + E.ClassName + ': ' + E.Message);
      Result.Message := E.Message;
      if E is ESellSync then
      begin
        Result.Code := ESellSync(E).Code;
        Result.Detail := ESellSync(E).Detail;
      end;
      Exit;
    end;
  end;
  Fail(What + ': expected ' + Cls.ClassName + ', nothing raised');
end;

{ Polls Cond until it holds, at most Seconds; never a sleep as synchronisation. }
procedure WaitFor(Cond: TCond; Seconds: Double; const What: string);
var
  Deadline: TDateTime;
begin
  Deadline := IncMilliSecond(Now, Round(Seconds * 1000));
  while not Cond() do
  begin
    if Now > Deadline then
      Fail(Format('timed out after %g s waiting for %s', [Seconds, What]));
    Sleep(20); { the polling interval of a bounded wait }
  end;
end;

{ Runs Flows again and again until Cond holds (each run waits on the library). }
procedure SyncUntil(Shop: TSellSync; Flows: UInt32; Cond: TCond; const What: string);
  function Step: Boolean;
  begin
    Shop.SyncNow(Flows);
    Result := Cond();
  end;
begin
  WaitFor(Step, 90, What);
end;

procedure RunTest(const Name: string; Body: TProcedure);
var
  Started: TDateTime;
  I: Integer;
begin
  Started := Now;
  try
    Body();
    Inc(Passed);
    Writeln(Format('ok   %s (%d ms)', [Name, MilliSecondsBetween(Now, Started)]));
  except
    on E: Exception do
    begin
      Inc(Failed);
      Writeln('FAIL ', Name, ': ', E.ClassName, ': ', E.Message);
    end;
  end;
  for I := 0 to Garbage.Count - 1 do
    TObject(Garbage[I]).Free;
  Garbage.Clear;
  Flush(Output);
end;

{ ---- JSON (parsed documents are freed after each test) ---- }

function J(const Text: UTF8String): TJSONData;
begin
  try
    Result := GetJSON(Text, True);
  except
    on E: Exception do
      raise ETestFailure.Create('not JSON (' + E.Message + '): ' + string(Text));
  end;
  Garbage.Add(Result);
end;

function Obj(const Text: UTF8String): TJSONObject;
begin
  Result := J(Text) as TJSONObject;
end;

function Keep(D: TJSONData): TJSONData;
begin
  Garbage.Add(D);
  Result := D;
end;

{ A string member, as the UTF-8 bytes fpjson holds (whatever its string type's code page). }
function Str(D: TJSONData; const Name: UTF8String): UTF8String;
var
  V: TJSONData;
  R: RawByteString;
begin
  Result := '';
  V := (D as TJSONObject).Find(Name);
  if (V = nil) or (V.JSONType <> jtString) then
    Exit;
  R := V.AsString;
  SetLength(Result, Length(R));
  if Length(R) > 0 then
    Move(R[1], Result[1], Length(R));
end;

function Num(D: TJSONData; const Path: UTF8String): Int64;
begin
  Result := D.FindPath(Path).AsInt64;
end;

{ ---- the emulator's control API ---- }

{ A control API call; Body and the answer are UTF-8 bytes, copied as they are. }
function Control(const Method, Path: string; const Body: UTF8String): UTF8String;
var
  Client: TFPHTTPClient;
  Sent, Answer: TMemoryStream;
begin
  Client := TFPHTTPClient.Create(nil);
  Answer := TMemoryStream.Create;
  Sent := nil;
  try
    Client.IOTimeout := 30000;
    Client.AddHeader('Content-Type', 'application/json');
    if Body <> '' then
    begin
      Sent := TMemoryStream.Create;
      Sent.WriteBuffer(Body[1], Length(Body));
      Sent.Position := 0;
      Client.RequestBody := Sent;
    end;
    Client.HTTPMethod(Method, EmulatorUrl + '/_emulator/' + Path, Answer, []);
    SetLength(Result, Answer.Size);
    if Answer.Size > 0 then
      Move(Answer.Memory^, Result[1], Answer.Size);
    if Client.ResponseStatusCode <> 200 then
      Fail(Format('%s %s: %d %s', [Method, Path, Client.ResponseStatusCode, string(Result)]));
  finally
    Client.RequestBody := nil;
    Sent.Free;
    Answer.Free;
    Client.Free;
  end;
end;

function EmulatorState: TJSONObject;
begin
  Result := Obj(Control('GET', 'state', ''));
end;

procedure Inject(const Operation: string; Count: Integer; const Kind: string);
begin
  Control('POST', 'faults', UTF8String(Format('{"operation": "%s", "count": %d, %s}', [Operation, Count, Kind])));
end;

procedure ClearFaults;
begin
  Control('DELETE', 'faults', '');
end;

constructor TSeller.Create(const Skus: array of UTF8String);
var
  N, I: Integer;
  Listings: TJSONArray;
  Body: TJSONObject;
begin
  inherited Create;
  Inc(Sellers);
  N := Sellers;
  Id := UTF8String('APAS' + Run + 'T' + IntToStr(N));
  RefreshToken := UTF8String('Atzr|pascal-test-' + Run + '-' + IntToStr(N));
  Body := TJSONObject.Create(['seller_id', Id, 'client_id', CLIENT_ID, 'client_secret', CLIENT_SECRET,
    'refresh_token', RefreshToken, 'marketplace_ids', TJSONArray.Create([MARKETPLACE])]);
  try
    Control('POST', 'sellers', Body.AsJSON);
  finally
    Body.Free;
  end;
  Listings := TJSONArray.Create;
  for I := 0 to High(Skus) do
    Listings.Add(TJSONObject.Create(['sku', Skus[I], 'quantity', 50, 'price_cents', 1299]));
  Body := TJSONObject.Create(['seller_id', Id, 'listings', Listings]);
  try
    Control('POST', 'listings', Body.AsJSON);
  finally
    Body.Free;
  end;
  Config := TJSONObject.Create([
    'store_path', UTF8String(WorkDir + '/' + string(Id) + '.sqlite'),
    'seller_id', Id,
    'marketplace_ids', TJSONArray.Create([MARKETPLACE]),
    'endpoint', UTF8String(EmulatorUrl),
    'http_allow_insecure_loopback', True,
    'credentials', TJSONObject.Create(['client_id', CLIENT_ID, 'client_secret', CLIENT_SECRET,
      'refresh_token', RefreshToken]),
    'http', TJSONObject.Create(['timeout_ms', 5000, 'max_attempts', 8, 'backoff_initial_ms', 5,
      'backoff_max_ms', 50])]);
  Garbage.Add(Self);
end;

destructor TSeller.Destroy;
begin
  Config.Free;
  inherited Destroy;
end;

function TSeller.ConfigJson: UTF8String;
begin
  Result := Config.AsJSON;
end;

function TSeller.Open: TSellSync;
begin
  Result := TSellSync.Create(ConfigJson);
end;

function TSeller.PlaceOrders(Count: Integer; const Sku: UTF8String; Quantity: Integer): TStringList;
var
  Answer: TJSONObject;
  Ids: TJSONArray;
  I: Integer;
begin
  { Visible to searches at once: these tests are about the binding, not Amazon's search lag. }
  Answer := Obj(Control('POST', 'orders', UTF8String(Format(
    '{"seller_id": "%s", "count": %d, "lines": [["%s", %d]], "age_seconds": 600, "search_lag_seconds": 0}',
    [string(Id), Count, string(Sku), Quantity]))));
  Ids := Answer.Arrays['order_ids'];
  Result := TStringList.Create;
  Garbage.Add(Result);
  Result.Sorted := True;
  for I := 0 to Ids.Count - 1 do
    Result.Add(Ids.Strings[I]);
end;

function TSeller.Quantity(const Sku: UTF8String): Int64;
var
  Listings: TJSONArray;
  I: Integer;
begin
  Listings := EmulatorState.Arrays['listings'];
  for I := 0 to Listings.Count - 1 do
    if (Str(Listings[I], 'seller_id') = Id) and (Str(Listings[I], 'sku') = Sku) then
      Exit(Num(Listings[I], 'quantity'));
  Fail('no listing ' + string(Sku) + ' of ' + string(Id));
  Result := -1;
end;

{ The emulator's records of one kind ("shipments", "cancellations", "refunds") for these orders. }
function TSeller.Records(const Kind: string; Orders: TStrings): TJSONArray;
var
  All: TJSONArray;
  I: Integer;
begin
  All := EmulatorState.Arrays[Kind];
  Result := TJSONArray(Keep(TJSONArray.Create));
  for I := 0 to All.Count - 1 do
    if Orders.IndexOf(Str(All[I], 'order_id')) >= 0 then
      Result.Add(All[I].Clone);
end;

{ ---- helpers on a handle ---- }

{ Every order ready, each acknowledged when Ack; their ids, sorted; their documents in Docs. }
function TakeAll(Shop: TSellSync; Ack: Boolean; Docs: TStrings = nil): TStringList;
var
  Doc, Id: UTF8String;
begin
  Result := TStringList.Create;
  Garbage.Add(Result);
  Result.Sorted := True;
  while Shop.OrderNext(Doc) do
  begin
    Id := SellSyncJsonMember(Doc, 'order_id');
    Result.Add(Id);
    if Docs <> nil then
      Docs.Add(Doc);
    if Ack then
      Shop.OrderAck(Id, 'POS-' + Id);
  end;
end;

{ Every event waiting, each acknowledged; their documents. }
function DrainEvents(Shop: TSellSync): TStringList;
var
  Doc: UTF8String;
begin
  Result := TStringList.Create;
  Garbage.Add(Result);
  while Shop.EventNext(0, Doc) do
  begin
    Result.Add(Doc);
    Shop.EventAck(StrToInt64(SellSyncJsonMember(Doc, 'seq')));
  end;
end;

{ Whether every SKU's quantity is what the shelf says, with no feed open, and Amazon has
  applied every change it accepted (it applies them seconds to minutes later). }
function StockInStep(Shop: TSellSync): Boolean;
var
  S: TJSONObject;
begin
  S := Obj(Shop.State);
  Result := (Num(S, 'stock.out_of_step') = 0) and (Num(S, 'stock.open_feeds') = 0) and
    (Num(EmulatorState, 'landing') = 0);
end;

function Hex(const S: RawByteString): string;
var
  I: Integer;
begin
  Result := '';
  for I := 1 to Length(S) do
    Result := Result + IntToHex(Ord(S[I]), 2);
end;

function Contains(const Text, Part: RawByteString): Boolean;
begin
  Result := Pos(Part, Text) > 0;
end;

{ ---- the tests ---- }

procedure VersionAndLoading;
var
  V: UTF8String;
  Parts: TStringArray;
  C: TCaught;
  procedure Other; begin SellSyncCheckVersion(10203); end;
begin
  V := SellSyncVersion;
  Parts := string(V).Split(['.', '-']);
  Check(Length(Parts) >= 3, 'version ' + string(V));
  Equal(StrToInt(Parts[0]) * 10000 + StrToInt(Parts[1]) * 100 + StrToInt(Parts[2]), SellSyncVersionNumber,
    'version number');
  Equal(SELLSYNC_BINDING_MAJOR, SellSyncVersionNumber div 10000, 'major version');
  SellSyncCheckVersion(SellSyncVersionNumber);
  C := Raises(ESellSyncLibrary, Other, 'a library of major version 1');
  Check(Contains(C.Message, '1.2.3') and Contains(C.Message, 'needs major version 0'), 'message ' + C.Message);
  Equal('not found', SellSyncStatusStr(SELLSYNC_ERR_NOT_FOUND) , 'status text');
  Equal('NOT_FOUND', SellSyncStatusName(SELLSYNC_ERR_NOT_FOUND), 'status name');
end;

{ Runs this program in probe mode with SELLSYNC_LIBRARY set to Library ('' : unset) and
  LD_LIBRARY_PATH to LibPath; returns what it printed. }
function Probe(const Library_, LibPath: string): string;
var
  P: TProcess;
  I: Integer;
  Name: string;
  Out_: TStringStream;
  Buf: array[0..4095] of Byte;
  N: Integer;
begin
  P := TProcess.Create(nil);
  Out_ := TStringStream.Create('');
  try
    P.Executable := ParamStr(0);
    P.Parameters.Add('--probe-load');
    for I := 1 to GetEnvironmentVariableCount do
    begin
      Name := GetEnvironmentString(I);
      if (Pos('SELLSYNC_LIBRARY=', Name) = 1) or (Pos('LD_LIBRARY_PATH=', Name) = 1) then
        Continue;
      P.Environment.Add(Name);
    end;
    if Library_ <> '' then
      P.Environment.Add('SELLSYNC_LIBRARY=' + Library_);
    P.Environment.Add('LD_LIBRARY_PATH=' + LibPath);
    P.Options := [poUsePipes, poStderrToOutPut];
    P.Execute;
    repeat
      N := P.Output.Read(Buf, SizeOf(Buf));
      if N > 0 then
        Out_.Write(Buf, N);
    until N <= 0;
    P.WaitOnExit;
    Check(P.ExitStatus = 0, 'the probe exited with ' + IntToStr(P.ExitStatus) + ': ' + Out_.DataString);
    Result := Out_.DataString;
  finally
    Out_.Free;
    P.Free;
  end;
end;

procedure ProbeMain;
var
  I: Integer;
  V: UTF8String;
begin
  for I := 1 to 2 do
    try
      V := SellSyncVersion;
      Writeln('loaded ', V);
    except
      on E: ESellSyncLibrary do
        Writeln('ESellSyncLibrary: ', E.Message);
    end;
end;

procedure LibraryLookup;
var
  Lib, Got, Missing: string;
begin
  Lib := GetEnvironmentVariable('SELLSYNC_LIBRARY');
  Check(Lib <> '', 'SELLSYNC_LIBRARY names the library under test');
  Got := Probe('/nonexistent/libsellsync.so', '');
  Missing := 'ESellSyncLibrary: the sellsync library /nonexistent/libsellsync.so (from SELLSYNC_LIBRARY) ' +
    'could not be loaded: /nonexistent/libsellsync.so: cannot open shared object file: No such file or directory' +
    LineEnding;
  Equal(UTF8String(Missing + Missing), UTF8String(Got), 'a missing SELLSYNC_LIBRARY, twice');
  Got := Probe('libc.so.6', '');
  Check(Contains(Got, 'ESellSyncLibrary: the sellsync library loaded lacks the export sellsync_version'),
    'a library without the exports: ' + Got);
  Got := Probe('', ExtractFileDir(Lib));
  Equal(UTF8String('loaded ' + string(SellSyncVersion) + LineEnding + 'loaded ' + string(SellSyncVersion) + LineEnding),
    UTF8String(Got), 'found by name (' + SELLSYNC_LIBRARY_NAME + ') on the library path');
  Got := Probe('', '/nonexistent');
  Check(Contains(Got, 'ESellSyncLibrary: the sellsync library libsellsync.so (from the system''s library search path) ' +
    'could not be loaded') or Contains(Got, 'loaded '), 'not found anywhere: ' + Got);
end;

procedure EveryExportBound;
var
  Symbols, Header, FromHeader: TStringList;
  I, At: Integer;
  Line, Name: string;
begin
  Symbols := TStringList.Create;
  Header := TStringList.Create;
  FromHeader := TStringList.Create;
  try
    Symbols.LoadFromFile(RepoDir + '/abi/symbols.txt');
    for I := Symbols.Count - 1 downto 0 do
      if (Symbols[I] = '') or (Symbols[I][1] = '#') then
        Symbols.Delete(I);
    Check(Symbols.Count >= 25, 'symbols listed: ' + IntToStr(Symbols.Count));
    Equal(Symbols.Count, Length(SellSyncExports), 'exports the unit binds');
    for I := 0 to Symbols.Count - 1 do
      Equal(UTF8String(Symbols[I]), UTF8String(SellSyncExports[I]), 'export ' + IntToStr(I));
    { Every function the header declares is among them. }
    Header.LoadFromFile(RepoDir + '/include/sellsync.h');
    FromHeader.Sorted := True;
    FromHeader.Duplicates := dupIgnore;
    for Line in Header do
    begin
      At := Pos('sellsync_', Line);
      while At > 0 do
      begin
        Name := '';
        I := At;
        while (I <= Length(Line)) and (Line[I] in ['a'..'z', '_', '0'..'9']) do
        begin
          Name := Name + Line[I];
          Inc(I);
        end;
        if (I <= Length(Line)) and (Line[I] = '(') and (Pos(' *', Copy(Line, 1, At)) + Pos(' ', Copy(Line, 1, At)) > 0) then
          FromHeader.Add(Name);
        At := Pos('sellsync_', Copy(Line, I, MaxInt));
        if At > 0 then
          At := At + I - 1;
      end;
    end;
    for Name in FromHeader do
      Check(Symbols.IndexOf(Name) >= 0, Name + ' of the header is in abi/symbols.txt');
    Check(FromHeader.Count = Symbols.Count, 'the header declares ' + IntToStr(FromHeader.Count) + ' functions');
  finally
    Symbols.Free;
    Header.Free;
    FromHeader.Free;
  end;
  SellSyncVersion; { loads }
  Check(Assigned(sellsync_close) and Assigned(sellsync_event_ack) and Assigned(sellsync_event_next) and
    Assigned(sellsync_last_error) and Assigned(sellsync_listings) and Assigned(sellsync_metrics) and
    Assigned(sellsync_notifications_setup) and Assigned(sellsync_open) and Assigned(sellsync_order_ack) and
    Assigned(sellsync_order_cancel) and Assigned(sellsync_order_cancel_items) and Assigned(sellsync_order_next) and
    Assigned(sellsync_order_refund) and Assigned(sellsync_purge_buyer_data) and Assigned(sellsync_set_credentials) and
    Assigned(sellsync_set_event_callback) and Assigned(sellsync_set_log_callback) and
    Assigned(sellsync_shipment_confirm) and Assigned(sellsync_shipments) and Assigned(sellsync_sku_map) and
    Assigned(sellsync_start) and Assigned(sellsync_state) and Assigned(sellsync_status_str) and
    Assigned(sellsync_stock_set) and Assigned(sellsync_stock_set_batch) and Assigned(sellsync_stop) and
    Assigned(sellsync_string_free) and Assigned(sellsync_sync_now) and Assigned(sellsync_version) and
    Assigned(sellsync_version_number), 'every procedural variable is bound');
end;

procedure OrdersTakenAndAcknowledged;
var
  Seller: TSeller;
  Placed, First, Again: TStringList;
  Docs: TStringList;
  Shop: TSellSync;
  Doc: UTF8String;
  C: TCaught;
  One: TJSONObject;
  procedure OtherRef; begin Shop.OrderAck(Placed[0], 'POS-OTHER'); end;
  procedure Unknown; begin Shop.OrderAck('000-0000000-0000000', 'POS-1'); end;
begin
  Seller := TSeller.Create(['SKU-A']);
  Placed := Seller.PlaceOrders(5, 'SKU-A', 1);
  Docs := TStringList.Create;
  Garbage.Add(Docs);
  Shop := Seller.Open;
  try
    Shop.SyncNow(SELLSYNC_FLOW_ORDERS);
    First := TakeAll(Shop, False, Docs);
    Equal(UTF8String(Placed.CommaText), UTF8String(First.CommaText), 'orders taken');
    One := Obj(Docs[0]);
    Equal(MARKETPLACE, Str(One, 'marketplace_id'), 'marketplace');
    Check(One.Arrays['items'].Count > 0, 'items in the order');
    Check(not Shop.OrderNext(Doc), 'taken, not acknowledged: not handed out again at once');
    Equal('', Doc, 'no document');
  finally
    Shop.Free;
  end;
  Shop := Seller.Open; { a new process gets them again, at once }
  try
    Again := TakeAll(Shop, True);
    Equal(UTF8String(Placed.CommaText), UTF8String(Again.CommaText), 'orders again in a new handle');
    Check(not Shop.OrderNext(Doc), 'nothing after the acks');
    Shop.OrderAck(Placed[0], 'POS-' + Placed[0]); { the same reference again: fine }
    C := Raises(ESellSyncConflict, OtherRef, 'ack with another reference');
    Equal(SELLSYNC_ERR_CONFLICT, C.Code, 'conflict code');
    Check(C.Detail <> '', 'conflict has a message');
    Check(Pos('CONFLICT: ', C.Message) = 1, 'message ' + C.Message);
    C := Raises(ESellSyncNotFound, Unknown, 'ack of an unknown order');
    Equal(SELLSYNC_ERR_NOT_FOUND, C.Code, 'not found code');
    Shop.SyncNow(SELLSYNC_FLOW_ORDERS);
    Check(not Shop.OrderNext(Doc), 'acknowledged orders are not handed out after a sync');
    Equal(5, Num(Obj(Shop.State), 'orders.acknowledged'), 'state: acknowledged');
  finally
    Shop.Free;
  end;
  Shop := Seller.Open;
  try
    Shop.SyncNow(SELLSYNC_FLOW_ORDERS);
    Check(not Shop.OrderNext(Doc), 'acknowledged orders in a new handle');
  finally
    Shop.Free;
  end;
end;

procedure BuyerDataPurged;
var
  Seller: TSeller;
  Placed: TStringList;
  Shop: TSellSync;
  Doc: UTF8String;
  procedure Unknown; begin Shop.PurgeBuyerData('000-0000000-0000000'); end;
  procedure Empty; begin Shop.PurgeBuyerData(''); end;
begin
  Seller := TSeller.Create(['PURGE-A']);
  Placed := Seller.PlaceOrders(1, 'PURGE-A', 1);
  Shop := Seller.Open;
  try
    Shop.SyncNow(SELLSYNC_FLOW_ORDERS);
    Check(Shop.OrderNext(Doc), 'the order');
    Check(Obj(Doc).Find('recipient', jtObject) <> nil, 'a recipient before the purge: ' + string(Doc));
    Shop.PurgeBuyerData(Placed[0]);
    Shop.PurgeBuyerData(Placed[0]); { again: fine }
    Raises(ESellSyncNotFound, Unknown, 'an unknown order');
    Raises(ESellSyncInvalidArgument, Empty, 'an empty order id');
  finally
    Shop.Free;
  end;
  Shop := Seller.Open;
  try
    Check(Shop.OrderNext(Doc), 'the order again');
    Check(Obj(Doc).Find('recipient', jtNull) <> nil, 'no recipient after the purge: ' + string(Doc));
  finally
    Shop.Free;
  end;
end;

procedure StockReachesListing;
var
  Seller: TSeller;
  Shop: TSellSync;
  function InStep: Boolean; begin Result := StockInStep(Shop); end;
  procedure NoItem; begin Shop.StockSet('no-such-item', 1); end;
  procedure Negative; begin Shop.StockSet('4711', -1); end;
  procedure Absurd; begin Shop.StockSet('4711', Int64(1) shl 62); end;
begin
  Seller := TSeller.Create(['MUG-1', 'MUG-6', 'KIT']);
  Shop := Seller.Open;
  try
    Shop.SkuMap('{"mappings": [' +
      '{"sku": "MUG-1", "items": [{"host_item": "4711"}]},' +
      '{"sku": "MUG-6", "items": [{"host_item": "4711", "units": 6}]},' +
      '{"sku": "KIT", "items": [{"host_item": "0815"}, {"host_item": "4712", "units": 2}]}]}');
    Shop.StockSet('4711', 13);
    Shop.StockSetBatch('{"levels": [{"host_item": "0815", "on_hand": 5}, {"host_item": "4712", "on_hand": 4}]}');
    SyncUntil(Shop, SELLSYNC_FLOW_STOCK, InStep, 'stock in step');
    Equal(13, Seller.Quantity('MUG-1'), 'MUG-1 on Amazon');
    Equal(2, Seller.Quantity('MUG-6'), 'MUG-6 on Amazon');
    Equal(2, Seller.Quantity('KIT'), 'KIT on Amazon');
    Shop.StockSetBatch('{"levels": [{"host_item": "4711", "on_hand": 0}]}');
    SyncUntil(Shop, SELLSYNC_FLOW_STOCK, InStep, 'stock in step again');
    Equal(0, Seller.Quantity('MUG-1'), 'MUG-1 sold out on Amazon');
    Equal(0, Seller.Quantity('MUG-6'), 'MUG-6 sold out on Amazon');
    Raises(ESellSyncNotFound, NoItem, 'an item in no SKU');
    Raises(ESellSyncInvalidArgument, Negative, 'a negative quantity');
    Raises(ESellSyncInvalidArgument, Absurd, 'an absurd quantity');
  finally
    Shop.Free;
  end;
end;

procedure StockByLocation;
var
  Seller: TSeller;
  Shop: TSellSync;
  function InStep: Boolean; begin Result := StockInStep(Shop); end;
begin
  Seller := TSeller.Create(['LOC-1']);
  Seller.Config.Add('stock', TJSONObject.Create(['amazon_locations', TJSONArray.Create(['STORE-1', 'WAREHOUSE'])]));
  Shop := Seller.Open;
  try
    Shop.SkuMap('{"mappings": [{"sku": "LOC-1", "items": [{"host_item": "4711"}]}]}');
    Shop.StockSetBatch('{"levels": [{"host_item": "4711", "on_hand": 3, "location": "STORE-1"},' +
      '{"host_item": "4711", "on_hand": 4, "location": "WAREHOUSE"},' +
      '{"host_item": "4711", "on_hand": 100, "location": "OUTLET"}]}');
    SyncUntil(Shop, SELLSYNC_FLOW_STOCK, InStep, 'stock in step');
    Equal(7, Seller.Quantity('LOC-1'), 'Amazon sells the store''s and the warehouse''s units, not the outlet''s');
    Shop.StockSetBatch('{"levels": [{"host_item": "4711", "on_hand": 0, "location": "STORE-1"}]}');
    SyncUntil(Shop, SELLSYNC_FLOW_STOCK, InStep, 'stock in step again');
    Equal(4, Seller.Quantity('LOC-1'), 'the store sold out: Amazon sells the warehouse''s');
  finally
    Shop.Free;
  end;
end;

procedure FbaStockShown;
var
  Seller: TSeller;
  Shop: TSellSync;
  Body: TJSONObject;
  Fba: TJSONObject;
  function Read: Boolean; begin Result := not Obj(Shop.FbaStock).Nulls['read_at']; end;
begin
  Seller := TSeller.Create(['OWN-P']);
  Body := TJSONObject.Create(['seller_id', Seller.Id, 'listings', TJSONArray.Create([
    TJSONObject.Create(['sku', 'FBA-P', 'quantity', 9, 'fba', True,
      'fba_stock', TJSONObject.Create(['inbound_shipped', 3])])])]);
  try
    Control('POST', 'listings', Body.AsJSON);
  finally
    Body.Free;
  end;
  Shop := Seller.Open;
  try
    SyncUntil(Shop, SELLSYNC_FLOW_LISTINGS, Read, 'the FBA stock read with the listings');
    Fba := Obj(Shop.FbaStock).Arrays['skus'].Objects[0];
    Equal('FBA-P', UTF8String(Fba.Strings['sku']), 'the FBA SKU');
    Equal(9, Fba.Int64s['fulfillable'], 'sellable at Amazon');
    Equal(3, Fba.Int64s['inbound_shipped'], 'on its way in');
  finally
    Shop.Free;
  end;
end;

procedure PricesWithinGuardRails;
var
  Seller: TSeller;
  Shop: TSellSync;
  Caught: TCaught;
  function Applied: Boolean;
  begin
    Result := Obj(Shop.Prices).Objects['prices'].Arrays['PRICE-A'].Objects[0].Strings['state'] = 'APPLIED';
  end;
  procedure BelowFloor;
  begin
    Shop.PriceSet('{"prices": [{"sku": "PRICE-A", "marketplace_id": "ATVPDKIKX0DER", ' +
      '"price": "9.99", "minimum": "10.00"}]}');
  end;
begin
  Seller := TSeller.Create(['PRICE-A']);
  Shop := Seller.Open;
  try
    Shop.SkuMap('{"mappings": [{"sku": "PRICE-A", "items": [{"host_item": "P-1"}]}]}');
    Caught := Raises(ESellSyncInvalidArgument, BelowFloor, 'a price below the floor');
    Check(Contains(Caught.Message, 'below the seller''s minimum'), Caught.Message);
    Shop.PriceSet('{"prices": [{"sku": "PRICE-A", "marketplace_id": "ATVPDKIKX0DER", ' +
      '"price": "11.99", "minimum": "10.00"}]}');
    SyncUntil(Shop, SELLSYNC_FLOW_STOCK, Applied, 'the price applied');
    Equal('11.99', UTF8String(Obj(Shop.Prices).Objects['prices'].Arrays['PRICE-A'].Objects[0]
      .Objects['amazon'].Strings['price']), 'the price Amazon shows');
  finally
    Shop.Free;
  end;
end;

function Package(const OrderId, ItemId: UTF8String; Quantity: Integer; const Tracking: UTF8String): UTF8String;
begin
  Result := UTF8String(Format('{"order_id": "%s", "carrier_code": "UPS", "shipping_method": "Ground", ' +
    '"tracking_number": "%s", "items": [{"order_item_id": "%s", "quantity": %d}]}',
    [string(OrderId), string(Tracking), string(ItemId), Quantity]));
end;

function FirstItem(const OrderDoc: UTF8String): TJSONObject;
begin
  Result := Obj(OrderDoc).Arrays['items'].Objects[0];
end;

procedure ShipmentConfirmedOnAmazon;
var
  Seller: TSeller;
  Placed, Docs: TStringList;
  Shop: TSellSync;
  I: Integer;
  AtAmazon: TJSONArray;
  FirstId, FirstItemId: UTF8String;
  function Sent: Boolean;
  var
    K, P, Count: Integer;
    Packages: TJSONArray;
  begin
    Result := False;
    Count := 0;
    for K := 0 to Placed.Count - 1 do
    begin
      Packages := Obj(Shop.Shipments(Placed[K])).Arrays['shipments'];
      for P := 0 to Packages.Count - 1 do
      begin
        if Str(Packages[P], 'state') <> 'SENT' then
          Exit;
        Inc(Count);
      end;
    end;
    Result := Count = 2;
  end;
  procedure Again; begin Shop.ShipmentConfirm(Package(FirstId, FirstItemId, 1, '1Z-again')); end;
  procedure Unknown; begin Shop.ShipmentConfirm(Package('000-0000000-0000000', FirstItemId, 1, '1Z')); end;
  procedure NoCarrier; begin Shop.ShipmentConfirm(StringReplace(Package(FirstId, FirstItemId, 1, '1Z-x'), '"UPS"', '"Pigeon Post"', [])); end;
begin
  Seller := TSeller.Create(['SHIP-A']);
  Placed := Seller.PlaceOrders(2, 'SHIP-A', 2);
  Docs := TStringList.Create;
  Garbage.Add(Docs);
  Shop := Seller.Open;
  try
    Shop.SyncNow(SELLSYNC_FLOW_ORDERS);
    TakeAll(Shop, True, Docs);
    Equal(2, Docs.Count, 'orders');
    for I := 0 to Docs.Count - 1 do
      Shop.ShipmentConfirm(Package(SellSyncJsonMember(Docs[I], 'order_id'), Str(FirstItem(Docs[I]), 'order_item_id'),
        Num(FirstItem(Docs[I]), 'quantity'), UTF8String('1Z' + IntToStr(I))));
    FirstId := SellSyncJsonMember(Docs[0], 'order_id');
    FirstItemId := Str(FirstItem(Docs[0]), 'order_item_id');
    Raises(ESellSyncInvalidArgument, Again, 'a second package with nothing left to ship');
    Raises(ESellSyncInvalidArgument, NoCarrier, 'an unknown carrier without a carrier_name');
    Equal(2, Obj(Shop.Shipments).Arrays['shipments'].Count, 'packages waiting');
    SyncUntil(Shop, SELLSYNC_FLOW_SHIPMENTS, Sent, 'packages sent');
    AtAmazon := Seller.Records('shipments', Placed);
    Equal(2, AtAmazon.Count, 'shipments on Amazon');
    for I := 0 to AtAmazon.Count - 1 do
      Equal(1, Num(AtAmazon[I], 'confirmations'), 'confirmations of ' + Str(AtAmazon[I], 'order_id'));
    Equal(0, Obj(Shop.Shipments).Arrays['shipments'].Count, 'no package waits');
    Raises(ESellSyncNotFound, Unknown, 'an unknown order');
  finally
    Shop.Free;
  end;
end;

{ Syncs until an adjustment.* event of Order arrives (draining the others); returns it. }
function AdjustmentOutcome(Shop: TSellSync; const Order: UTF8String): TJSONObject;
var
  Found: TJSONObject;
  function Arrived: Boolean;
  var
    Events: TStringList;
    K: Integer;
    E: TJSONObject;
  begin
    Events := DrainEvents(Shop);
    for K := 0 to Events.Count - 1 do
    begin
      E := Obj(Events[K]);
      if (Pos('adjustment.', string(Str(E, 'type'))) = 1) and (Str(E, 'order_id') = Order) then
        Found := E;
    end;
    Result := Found <> nil;
  end;
begin
  Found := nil;
  SyncUntil(Shop, SELLSYNC_FLOW_SHIPMENTS, Arrived, 'the adjustment of ' + string(Order));
  Result := Found;
end;

procedure CancellationsAndRefundReachAmazon;
var
  Seller: TSeller;
  Placed, Docs: TStringList;
  Shop: TSellSync;
  Outcome: TJSONObject;
  Cancelled, Refunds: TJSONArray;
  Victim, Second, Third: UTF8String;
  procedure Unknown; begin Shop.OrderCancel('000-0000000-0000000', 'NoInventory'); end;
  procedure BadReason; begin Shop.OrderCancel(Victim, 'NoSuchReason'); end;
  procedure BadRefund; begin Shop.OrderRefund('{"order_id": "' + Third + '"}'); end;
begin
  Seller := TSeller.Create(['CAN-A']);
  Placed := Seller.PlaceOrders(3, 'CAN-A', 1);
  Docs := TStringList.Create;
  Garbage.Add(Docs);
  Shop := Seller.Open;
  try
    Shop.SyncNow(SELLSYNC_FLOW_ORDERS);
    TakeAll(Shop, True, Docs);
    Equal(3, Docs.Count, 'orders');
    Victim := SellSyncJsonMember(Docs[0], 'order_id');
    Second := SellSyncJsonMember(Docs[1], 'order_id');
    Third := SellSyncJsonMember(Docs[2], 'order_id');
    Shop.OrderCancel(Victim, 'NoInventory');
    Shop.OrderCancel(Victim, 'NoInventory'); { again: succeeds, sends nothing more }
    Outcome := AdjustmentOutcome(Shop, Victim);
    Equal('adjustment.done', Str(Outcome, 'type'), 'outcome of the cancellation');
    Equal('CANCEL', Str(Outcome, 'kind'), 'adjustment kind');
    Shop.OrderCancelItems(UTF8String(Format('{"order_id": "%s", "reason": "BuyerCanceled", "items": ["%s"]}',
      [string(Second), string(Str(FirstItem(Docs[1]), 'order_item_id'))])));
    Outcome := AdjustmentOutcome(Shop, Second);
    Equal('adjustment.done', Str(Outcome, 'type'), 'outcome of the item cancellation');
    Cancelled := Seller.Records('cancellations', Placed);
    Equal(2, Cancelled.Count, 'cancellations on Amazon');
    Check(((Str(Cancelled[0], 'order_id') = Victim) and (Str(Cancelled[1], 'order_id') = Second)) or
      ((Str(Cancelled[0], 'order_id') = Second) and (Str(Cancelled[1], 'order_id') = Victim)),
      'the cancelled orders on Amazon');
    Raises(ESellSyncNotFound, Unknown, 'cancel an unknown order');
    Raises(ESellSyncInvalidArgument, BadReason, 'an unknown reason');
    Raises(ESellSyncInvalidArgument, BadRefund, 'a refund without items');
    Shop.OrderRefund(UTF8String(Format('{"order_id": "%s", "reason": "CustomerReturn", ' +
      '"items": [{"order_item_id": "%s", "amount": "%s"}]}',
      [string(Third), string(Str(FirstItem(Docs[2]), 'order_item_id')), string(Str(FirstItem(Docs[2]), 'line_total'))])));
    Outcome := AdjustmentOutcome(Shop, Third);
    Equal('adjustment.done', Str(Outcome, 'type'), 'outcome of the refund');
    Equal('REFUND', Str(Outcome, 'kind'), 'refund kind');
    Refunds := Seller.Records('refunds', Placed);
    Equal(1, Refunds.Count, 'refunds on Amazon');
  finally
    Shop.Free;
  end;
end;

procedure MetricsCountTheCancellation;
var
  Seller: TSeller;
  Placed: TStringList;
  Shop: TSellSync;
  M, Rate: TJSONObject;
  Markets, List: TJSONArray;
  I: Integer;
  C: TCaught;
  procedure OutOfRange; begin Shop.Metrics('{"horizon_hours": 100000}'); end;
begin
  Seller := TSeller.Create(['MET-A']);
  Placed := Seller.PlaceOrders(4, 'MET-A', 1);
  Shop := Seller.Open;
  try
    Shop.SyncNow(SELLSYNC_FLOW_ORDERS);
    TakeAll(Shop, True);
    Shop.OrderCancel(Placed[0], 'NoInventory');
    Equal('adjustment.done', Str(AdjustmentOutcome(Shop, Placed[0]), 'type'), 'cancelled');
    M := Obj(Shop.Metrics('{"marketplace_ids": ["' + MARKETPLACE + '"]}'));
    Markets := M.Arrays['marketplaces'];
    Equal(1, Markets.Count, 'marketplaces');
    Equal(MARKETPLACE, Str(Markets[0], 'marketplace_id'), 'marketplace');
    List := (Markets[0] as TJSONObject).Arrays['metrics'];
    Rate := nil;
    for I := 0 to List.Count - 1 do
      if Str(List[I], 'name') = 'cancellation_rate' then
        Rate := List.Objects[I];
    Check(Rate <> nil, 'a cancellation_rate metric');
    Equal(1, Num(Rate, 'numerator'), 'cancellations');
    Equal(4, Num(Rate, 'denominator'), 'orders');
    Equal('failing', Str(Rate, 'status'), 'status');
    Check(M.Find('at_risk') <> nil, 'at_risk in the metrics');
    Check(Obj(Shop.Metrics).Find('marketplaces') <> nil, 'metrics with the default query');
    C := Raises(ESellSyncInvalidArgument, OutOfRange, 'horizon out of range');
    Check(Contains(C.Detail, 'horizon_hours'), 'the message names the setting: ' + string(C.Detail));
  finally
    Shop.Free;
  end;
end;

procedure EventsByPolling;
var
  Seller: TSeller;
  Placed, Ready: TStringList;
  Shop: TSellSync;
  Doc: UTF8String;
  Seq: Int64;
  Wait: Integer;
  procedure Zero; begin Shop.EventAck(0); end;
  procedure Never; begin Shop.EventAck(High(Int64)); end;
begin
  Seller := TSeller.Create(['EV-A']);
  Placed := Seller.PlaceOrders(3, 'EV-A', 1);
  Ready := TStringList.Create;
  Garbage.Add(Ready);
  Ready.Sorted := True;
  Shop := Seller.Open;
  try
    Shop.SyncNow(SELLSYNC_FLOW_ORDERS);
    Wait := 1000;
    while Shop.EventNext(Wait, Doc) do
    begin
      Wait := 0;
      if SellSyncJsonMember(Doc, 'type') = 'order.ready' then
        Ready.Add(SellSyncJsonMember(Doc, 'order_id'));
      Seq := StrToInt64(SellSyncJsonMember(Doc, 'seq'));
      Shop.EventAck(Seq);
      Shop.EventAck(Seq); { again: fine }
    end;
    Equal(UTF8String(Placed.CommaText), UTF8String(Ready.CommaText), 'order.ready events');
    Check(not Shop.EventNext(0, Doc), 'every event acknowledged');
    Equal(0, Num(Obj(Shop.State), 'queues.events_unread'), 'events_unread');
    Raises(ESellSyncInvalidArgument, Zero, 'seq 0');
    Raises(ESellSyncNotFound, Never, 'a seq never handed out');
  finally
    Shop.Free;
  end;
  Shop := Seller.Open; { acknowledged: not even a new handle gets them }
  try
    Check(not Shop.EventNext(50, Doc), 'events in a new handle');
  finally
    Shop.Free;
  end;
end;

type
  { The event and log handlers of the callback tests (methods: `of object`). }
  TListener = class
    Lock: TRTLCriticalSection;
    Seen: TStringList;
    Types: TStringList;
    Lines: TStringList;
    Levels: array[1..4] of Integer;
    BadLevels: Integer;
    InsideErrors: TStringList;
    InsideCalls: Integer;
    FailOn: UTF8String;
    FailOnce: Boolean;
    FailedTimes: Integer;
    Replaced: Integer;
    OnLibraryThread: Integer;
    UnmaskedOnLibraryThread: Integer;
    constructor Create;
    destructor Destroy; override;
    procedure OnEvent(Sender: TSellSync; const EventJson: UTF8String);
    procedure OnOtherEvent(Sender: TSellSync; const EventJson: UTF8String);
    procedure OnLog(Sender: TSellSync; Level: Integer; const Message: UTF8String);
    function Count(List: TStringList): Integer;
    function Has(List: TStringList; const S: string): Boolean;
  end;

constructor TListener.Create;
begin
  inherited Create;
  InitCriticalSection(Lock);
  Seen := TStringList.Create;
  Types := TStringList.Create;
  Lines := TStringList.Create;
  InsideErrors := TStringList.Create;
end;

destructor TListener.Destroy;
begin
  Seen.Free;
  Types.Free;
  Lines.Free;
  InsideErrors.Free;
  DoneCriticalSection(Lock);
  inherited Destroy;
end;

function TListener.Count(List: TStringList): Integer;
begin
  EnterCriticalSection(Lock);
  try
    Result := List.Count;
  finally
    LeaveCriticalSection(Lock);
  end;
end;

function TListener.Has(List: TStringList; const S: string): Boolean;
begin
  EnterCriticalSection(Lock);
  try
    Result := List.IndexOf(S) >= 0;
  finally
    LeaveCriticalSection(Lock);
  end;
end;

procedure TListener.OnEvent(Sender: TSellSync; const EventJson: UTF8String);
var
  T: UTF8String;
  Err: string;
begin
  T := SellSyncJsonMember(EventJson, 'type');
  EnterCriticalSection(Lock);
  try
    if Types.IndexOf(T) < 0 then
      Types.Add(T);
  finally
    LeaveCriticalSection(Lock);
  end;
  if T = 'order.ready' then
  begin
    { The handler may call the library; replacing itself or closing is refused. }
    Err := '';
    try
      Sender.SetEventCallback(nil);
      Err := 'SetEventCallback inside the callback succeeded';
    except
      on E: ESellSyncInvalidState do ;
      on E: Exception do Err := E.ClassName + ': ' + E.Message;
    end;
    try
      Sender.Close;
      Err := Err + ' Close inside the callback succeeded';
    except
      on E: ESellSyncInvalidState do ;
      on E: Exception do Err := Err + ' ' + E.ClassName + ': ' + E.Message;
    end;
    Sender.State;
    EnterCriticalSection(Lock);
    try
      if Err <> '' then
        InsideErrors.Add(Err);
      Inc(InsideCalls);
      Seen.Add(SellSyncJsonMember(EventJson, 'order_id'));
    finally
      LeaveCriticalSection(Lock);
    end;
  end;
  if (FailOn <> '') and (T = FailOn) and not (FailOnce and (FailedTimes > 0)) then
  begin
    InterlockedIncrement(FailedTimes);
    raise Exception.Create('a bug of the host''s');
  end;
  if (FailOn <> '') and (T = FailOn) then
  begin
    EnterCriticalSection(Lock);
    try
      Types.Add(T + ' again');
    finally
      LeaveCriticalSection(Lock);
    end;
  end;
end;

procedure TListener.OnOtherEvent(Sender: TSellSync; const EventJson: UTF8String);
begin
  InterlockedIncrement(Replaced);
end;

procedure TListener.OnLog(Sender: TSellSync; Level: Integer; const Message: UTF8String);
begin
  EnterCriticalSection(Lock);
  try
    if GetCurrentThreadId <> MainThreadID then
    begin
      { A thread the library started, inside a call of the binding's. }
      Inc(OnLibraryThread);
      if GetExceptionMask <> [exInvalidOp, exDenormalized, exZeroDivide, exOverflow, exUnderflow, exPrecision] then
        Inc(UnmaskedOnLibraryThread);
    end;
    if (Level >= 1) and (Level <= 4) then
      Inc(Levels[Level])
    else
      Inc(BadLevels);
    Lines.Add(Message);
  finally
    LeaveCriticalSection(Lock);
  end;
end;

procedure EventsByCallback;
var
  Seller: TSeller;
  Placed: TStringList;
  Shop: TSellSync;
  L: TListener;
  Before: Integer;
  Doc: UTF8String;
  function AllSeen: Boolean;
  begin
    Result := (L.Count(L.Seen) >= 3) and L.Has(L.Types, 'sync.completed');
  end;
  function Released: Boolean; begin Result := SellSyncCallbacksAlive = Before; end;
  function Counted: Boolean; begin Result := Shop.CallbackErrors >= 1; end;
begin
  Seller := TSeller.Create(['EVCB-A']);
  Placed := Seller.PlaceOrders(3, 'EVCB-A', 1);
  L := TListener.Create;
  Garbage.Add(L);
  L.FailOn := 'sync.completed';
  Before := SellSyncCallbacksAlive;
  Shop := Seller.Open;
  try
    Shop.SetEventCallback(L.OnOtherEvent);
    Equal(Before + 1, SellSyncCallbacksAlive, 'one registration held');
    Shop.SetEventCallback(L.OnEvent);
    Equal(Before + 1, SellSyncCallbacksAlive, 'replaced: the first is released');
    Shop.SyncNow(SELLSYNC_FLOW_ORDERS);
    WaitFor(AllSeen, 30, 'three order.ready events and the sync.completed in the callback');
    L.Seen.Sort;
    Equal(UTF8String(Placed.CommaText), UTF8String(L.Seen.CommaText), 'order.ready events');
    Equal('', UTF8String(L.InsideErrors.Text), 'calls from inside the callback');
    Equal(0, L.Replaced, 'the replaced handler got nothing');
    WaitFor(Counted, 30, 'the handler''s exception caught and counted');
    Check(not Shop.Closed, 'Close inside the callback was refused');
    Shop.SetEventCallback(nil);
    WaitFor(Released, 10, 'the removed callback released');
    Check(not Shop.EventNext(0, Doc), 'delivered to the callback, so acknowledged: ' + string(Doc));
    Shop.SetEventCallback(L.OnOtherEvent);
    Equal(Before + 1, SellSyncCallbacksAlive, 'registered again');
  finally
    Shop.Free;
  end;
  Equal(Before, SellSyncCallbacksAlive, 'close releases the last callback');
end;

procedure EventDeclinedWhenHandlerRaises;
var
  Seller: TSeller;
  Shop: TSellSync;
  L: TListener;
  function Again: Boolean; begin Result := L.Has(L.Types, 'order.ready again'); end;
begin
  Seller := TSeller.Create(['EVDECL-A']);
  Seller.PlaceOrders(1, 'EVDECL-A', 1);
  Seller.Config.Add('orders', TJSONObject.Create(['redelivery_seconds', 1]));
  L := TListener.Create;
  Garbage.Add(L);
  L.FailOn := 'order.ready';
  L.FailOnce := True;
  Shop := Seller.Open;
  try
    Shop.SetEventCallback(L.OnEvent);
    Shop.SyncNow(SELLSYNC_FLOW_ORDERS);
    WaitFor(Again, 30, 'the order.ready whose handler raised, again');
    Shop.SetEventCallback(nil);
    Equal(1, L.FailedTimes, 'the handler raised once');
    Equal(1, Shop.CallbackErrors, 'one exception counted');
  finally
    Shop.Free;
  end;
end;

procedure LogCallback;
var
  Seller: TSeller;
  Shop: TSellSync;
  L: TListener;
  Before, N, I: Integer;
  C: TCaught;
  procedure Level9; begin Shop.SetLogCallback(9, L.OnLog); end;
begin
  Seller := TSeller.Create(['LOG-A']);
  L := TListener.Create;
  Garbage.Add(L);
  Shop := Seller.Open;
  try
    Before := SellSyncCallbacksAlive;
    Shop.SetLogCallback(SELLSYNC_LOG_DEBUG, L.OnLog);
    Equal(Before + 1, SellSyncCallbacksAlive, 'one registration held');
    Shop.SyncNow(SELLSYNC_FLOW_ORDERS);
    C := Raises(ESellSyncInvalidArgument, Level9, 'level 9');
    Check(Contains(C.Detail, 'level'), 'the message: ' + string(C.Detail));
    Equal(Before + 1, SellSyncCallbacksAlive, 'the refused callback is not kept');
    Shop.SetLogCallback(SELLSYNC_LOG_DEBUG, nil);
    Equal(Before, SellSyncCallbacksAlive, 'removed: released before the call returns');
    N := L.Count(L.Lines);
    Check(N > 0, 'log lines at DEBUG');
    Check(L.Levels[SELLSYNC_LOG_DEBUG] > 0, 'DEBUG lines among them');
    Equal(0, L.BadLevels, 'lines with a level outside 1..4');
    for I := 0 to L.Lines.Count - 1 do
    begin
      Check(Pos(#10, L.Lines[I]) = 0, 'one line each');
      Check(not Contains(L.Lines[I], CLIENT_SECRET) and not Contains(L.Lines[I], 'Atzr|'), 'no secret in ' + L.Lines[I]);
    end;
    Shop.SyncNow(SELLSYNC_FLOW_ORDERS);
    Equal(N, L.Count(L.Lines), 'no lines after removal');
    { Only INFO and more severe at INFO. }
    Shop.SetLogCallback(SELLSYNC_LOG_INFO, L.OnLog);
    L.Levels[SELLSYNC_LOG_DEBUG] := 0;
    Shop.SyncNow(SELLSYNC_FLOW_ORDERS);
    Check(L.Count(L.Lines) > N, 'lines at INFO');
    Equal(0, L.Levels[SELLSYNC_LOG_DEBUG], 'no DEBUG lines at INFO');
  finally
    Shop.Free;
  end;
  Equal(Before, SellSyncCallbacksAlive, 'nothing held after close');
end;

procedure ErrorsAreTheRightException;
var
  Seller: TSeller;
  Shop: TSellSync;
  C: TCaught;
  Code: Integer;
  Cls: ESellSyncClass;
  Seen: TStringList;
  H: PSellSyncHandle;
  procedure BadJson; begin Shop.SkuMap('{not json'); end;
  procedure BadBatch; begin Shop.StockSetBatch('[1, 2'); end;
  procedure EmptyDoc; begin Shop.SkuMap(''); end;
  procedure Nul; begin Shop.StockSet('47'#0'11', 1); end;
  procedure BadConfig;
  begin
    Seller.Config.Objects['http'].Integers['max_attempts'] := 0;
    try
      TSellSync.Create(Seller.ConfigJson).Free;
    finally
      Seller.Config.Objects['http'].Integers['max_attempts'] := 8;
    end;
  end;
  procedure BadOpen; begin TSellSync.Create('{"store_path": ').Free; end;
begin
  { Every status has its class, named after it; an unknown one is ESellSync itself. }
  Seen := TStringList.Create;
  Garbage.Add(Seen);
  for Code := 1 to 14 do
  begin
    Cls := SellSyncErrorClass(Code);
    Check((Cls <> ESellSync) and (Seen.IndexOf(Cls.ClassName) < 0), 'a class of its own for ' + IntToStr(Code));
    Seen.Add(Cls.ClassName);
    Equal(UTF8String(StringReplace(SellSyncStatusName(Code), '_', '', [rfReplaceAll])),
      UTF8String(UpperCase(Copy(Cls.ClassName, Length('ESellSync') + 1, MaxInt))), 'class of ' + IntToStr(Code));
  end;
  Check(SellSyncErrorClass(99) = ESellSync, 'an unknown code');
  Seller := TSeller.Create(['ERR-A']);
  Shop := Seller.Open;
  try
    C := Raises(ESellSyncInvalidArgument, BadJson, 'malformed JSON');
    Equal(SELLSYNC_ERR_INVALID_ARGUMENT, C.Code, 'code');
    Check(C.Detail <> '', 'a message');
    Check(C.Detail <> SellSyncStatusStr(1), 'the library''s message, not the status text: ' + string(C.Detail));
    Equal(UTF8String('INVALID_ARGUMENT: ' + string(C.Detail)), UTF8String(C.Message), 'Message');
    Raises(ESellSyncInvalidArgument, BadBatch, 'malformed JSON');
    Raises(ESellSyncInvalidArgument, EmptyDoc, 'an empty document');
    C := Raises(ESellSyncInvalidArgument, Nul, 'a NUL inside a string');
    Check(Contains(C.Detail, 'host_item contains a NUL'), 'the binding''s message: ' + string(C.Detail));
    { NULL through the C API itself. }
    Equal(SELLSYNC_ERR_INVALID_ARGUMENT, sellsync_sku_map(Shop.Handle, nil), 'sku_map(NULL)');
    Check(Contains(SellSyncLastError, 'mapping_json'), 'last error names the argument: ' + string(SellSyncLastError));
    Equal(SELLSYNC_OK, sellsync_sku_map(Shop.Handle, '{"mappings": []}'), 'a call that succeeds');
    Equal('', SellSyncLastError, 'last error after a success');
    H := nil;
    Equal(SELLSYNC_ERR_INVALID_ARGUMENT, sellsync_open(nil, @H), 'open(NULL)');
    Check(H = nil, 'no handle written on failure');
    Shop.State; { usable after failures }
  finally
    Shop.Free;
  end;
  C := Raises(ESellSyncConfig, BadConfig, 'max_attempts 0');
  Check(Contains(C.Detail, 'max_attempts'), 'the message names the setting: ' + string(C.Detail));
  Raises(ESellSyncInvalidArgument, BadOpen, 'a configuration that is not JSON');
end;

{ One call producing each status the library can produce from here (INTERNAL is a bug
  inside the library: only its mapping is checked, above). }
procedure EveryStatusFromTheLibrary;
var
  Seller: TSeller;
  Shop: TSellSync;
  C: TCaught;
  Dir: string;
  F: TextFile;
  procedure Sync; begin Shop.SyncNow(SELLSYNC_FLOW_ORDERS); end;
  procedure OpenStore(const Path: string);
  begin
    Seller.Config.Strings['store_path'] := UTF8String(Path);
    TSellSync.Create(Seller.ConfigJson).Free;
  end;
  procedure OpenDir; begin OpenStore(Dir); end;
  procedure OpenGarbage; begin OpenStore(Dir + '/garbage.sqlite'); end;
  procedure Setup; begin Shop.NotificationsSetup; end;
  procedure BadCredentials; begin Shop.SetCredentials('{"client_secret": ""}'); end;
begin
  Seller := TSeller.Create(['STATUS-A']);
  Seller.Config.Objects['http'].Integers['max_attempts'] := 2;
  { AUTH: Login with Amazon refuses the client secret; SetCredentials puts it right. }
  Seller.Config.Objects['credentials'].Strings['client_secret'] := 'not-the-secret';
  Shop := Seller.Open;
  try
    C := Raises(ESellSyncAuth, Sync, 'an old client secret');
    Equal(SELLSYNC_ERR_AUTH, C.Code, 'AUTH code');
    Check(Contains(C.Detail, 'sellsync_set_credentials'), 'the message says what to do: ' + string(C.Detail));
    Raises(ESellSyncInvalidArgument, BadCredentials, 'an empty client secret');
    Shop.SetCredentials('{"client_secret": "' + CLIENT_SECRET + '"}');
    Shop.SyncNow(SELLSYNC_FLOW_ORDERS);
  finally
    Shop.Free;
  end;
  Seller.Config.Objects['credentials'].Strings['client_secret'] := CLIENT_SECRET;
  Shop := Seller.Open;
  try
    { THROTTLED: Amazon answers 429 to every attempt. }
    Inject('searchOrders', 10, '"kind": "status", "status": 429');
    try
      C := Raises(ESellSyncThrottled, Sync, '429 on every attempt');
    finally
      ClearFaults;
    end;
    Check(Contains(C.Detail, 'throttled'), 'THROTTLED message: ' + string(C.Detail));
    { AMAZON: Amazon answers with an error. }
    Inject('searchOrders', 10, '"kind": "status", "status": 400');
    try
      C := Raises(ESellSyncAmazon, Sync, '400 from Amazon');
    finally
      ClearFaults;
    end;
    Check(Contains(C.Detail, 'InvalidInput'), 'Amazon''s code in the message: ' + string(C.Detail));
    { NETWORK: the connection drops before every answer. }
    Inject('searchOrders', 10, '"kind": "drop"');
    try
      C := Raises(ESellSyncNetwork, Sync, 'connections dropped');
    finally
      ClearFaults;
    end;
    Check(Contains(C.Detail, 'network'), 'NETWORK message: ' + string(C.Detail));
    { INVALID_ARGUMENT: no notifications section. }
    C := Raises(ESellSyncInvalidArgument, Setup, 'notifications set-up without a notifications section');
    Check(Contains(C.Detail, 'notifications'), 'the message names the section: ' + string(C.Detail));
    Shop.SyncNow(SELLSYNC_FLOW_ORDERS); { Amazon answers again }
  finally
    Shop.Free;
  end;
  { TIMEOUT: the sync does not finish in its time. }
  Seller.Config.Add('intervals', TJSONObject.Create(['sync_timeout_seconds', 0.3]));
  Shop := Seller.Open;
  try
    Inject('searchOrders', 1, '"kind": "delay", "ms": 3000');
    try
      C := Raises(ESellSyncTimeout, Sync, 'a sync slower than sync_timeout_seconds');
    finally
      ClearFaults;
    end;
    Check(Contains(C.Detail, 'timed out'), 'TIMEOUT message: ' + string(C.Detail));
  finally
    Shop.Free;
  end;
  { STORE: the store cannot be opened. }
  Dir := WorkDir + '/store-dir-' + string(Seller.Id);
  ForceDirectories(Dir);
  C := Raises(ESellSyncStore, OpenDir, 'a directory as the store');
  Check(Contains(C.Detail, 'store'), 'STORE message: ' + string(C.Detail));
  AssignFile(F, Dir + '/garbage.sqlite');
  Rewrite(F);
  Write(F, StringOfChar('x', 4096));
  CloseFile(F);
  Raises(ESellSyncStore, OpenGarbage, 'a file that is not a database');
end;

procedure NetworkWithoutAmazon;
var
  Seller: TSeller;
  Shop: TSellSync;
  C: TCaught;
  procedure Sync; begin Shop.SyncNow(SELLSYNC_FLOW_ORDERS); end;
begin
  Seller := TSeller.Create(['NET-A']);
  Seller.Config.Strings['endpoint'] := 'http://127.0.0.1:9';
  Seller.Config.Objects['http'].Integers['max_attempts'] := 2;
  Shop := Seller.Open;
  try
    C := Raises(ESellSyncNetwork, Sync, 'nobody listening');
    Equal(SELLSYNC_ERR_NETWORK, C.Code, 'NETWORK code');
  finally
    Shop.Free;
  end;
end;

procedure ForkedChild;
var
  Seller: TSeller;
  Shop: TSellSync;
  Pid: TPid;
  Status: cint;
  Doc: UTF8String;
  Code: Integer;
begin
  Seller := TSeller.Create(['FORK-A']);
  Shop := Seller.Open;
  try
    Shop.State;
    Pid := fpFork;
    Check(Pid >= 0, 'fork');
    if Pid = 0 then
    begin
      { The child: the inherited handle answers FORKED, and so does Close. }
      Code := 0;
      try
        Shop.OrderNext(Doc);
        Code := 10;
      except
        on E: ESellSyncForked do
          if (E.Code <> SELLSYNC_ERR_FORKED) or (E.Detail = '') then
            Code := 11;
        on E: Exception do
          Code := 12;
      end;
      try
        Shop.Close;
        Code := Code + 20;
      except
        on E: ESellSyncForked do ;
        on E: Exception do
          Code := Code + 30;
      end;
      fpExit(Code);
    end;
    Check(fpWaitPid(Pid, @Status, 0) = Pid, 'waitpid');
    Check(WIFEXITED(Status), 'the child exited');
    Equal(0, WEXITSTATUS(Status), 'the child''s verdict (10: no exception, 11: no message, 12: another class, +20/+30: Close)');
    Shop.State; { the parent's handle is untouched }
  finally
    Shop.Free;
  end;
end;

procedure CallAfterClose;
var
  Seller: TSeller;
  Shop: TSellSync;
  L: TListener;
  C: TCaught;
  Before: Integer;
  Doc: UTF8String;
  procedure Expect(Call: TCall; const What: string);
  begin
    C := Raises(ESellSyncClosed, Call, What);
    Equal(SELLSYNC_ERR_CLOSED, C.Code, What + ': code');
    Check(C.Detail <> '', What + ': a message');
  end;
  procedure DoState; begin Shop.State; end;
  procedure DoSync; begin Shop.SyncNow(SELLSYNC_FLOW_ORDERS); end;
  procedure DoStart; begin Shop.Start; end;
  procedure DoStop; begin Shop.Stop; end;
  procedure DoOrderNext; begin Shop.OrderNext(Doc); end;
  procedure DoOrderAck; begin Shop.OrderAck('1', '2'); end;
  procedure DoPurge; begin Shop.PurgeBuyerData('1'); end;
  procedure DoEventNext; begin Shop.EventNext(-1, Doc); end;
  procedure DoEventAck; begin Shop.EventAck(1); end;
  procedure DoEventCb; begin Shop.SetEventCallback(L.OnEvent); end;
  procedure DoLogCb; begin Shop.SetLogCallback(SELLSYNC_LOG_DEBUG, L.OnLog); end;
  procedure DoStockSet; begin Shop.StockSet('4711', 1); end;
  procedure DoBatch; begin Shop.StockSetBatch('{"levels": []}'); end;
  procedure DoSkuMap; begin Shop.SkuMap('{"mappings": []}'); end;
  procedure DoListings; begin Shop.Listings; end;
  procedure DoSetup; begin Shop.NotificationsSetup; end;
  procedure DoShip; begin Shop.ShipmentConfirm(Package('1', '2', 1, '1Z')); end;
  procedure DoShipments; begin Shop.Shipments; end;
  procedure DoShipmentsOf; begin Shop.Shipments('1'); end;
  procedure DoCancel; begin Shop.OrderCancel('1', 'NoInventory'); end;
  procedure DoCancelItems; begin Shop.OrderCancelItems('{"order_id": "1", "reason": "NoInventory", "items": ["2"]}'); end;
  procedure DoRefund; begin Shop.OrderRefund('{"order_id": "1", "reason": "CustomerReturn", "items": [{"order_item_id": "2", "amount": "1.00"}]}'); end;
  procedure DoMetrics; begin Shop.Metrics; end;
  procedure DoMetricsQ; begin Shop.Metrics('{}'); end;
  procedure DoCredentials; begin Shop.SetCredentials('{"client_secret": "x"}'); end;
begin
  Seller := TSeller.Create(['CLOSE-A']);
  L := TListener.Create;
  Garbage.Add(L);
  Shop := Seller.Open;
  try
    Shop.Close;
    Check(Shop.Closed, 'closed');
    Shop.Close; { again: nothing }
    Before := SellSyncCallbacksAlive;
    Expect(DoState, 'State');
    Expect(DoSync, 'SyncNow');
    Expect(DoStart, 'Start');
    Expect(DoStop, 'Stop');
    Expect(DoOrderNext, 'OrderNext');
    Expect(DoOrderAck, 'OrderAck');
    Expect(DoPurge, 'PurgeBuyerData');
    Expect(DoEventNext, 'EventNext(-1)');
    Expect(DoEventAck, 'EventAck');
    Expect(DoEventCb, 'SetEventCallback');
    Expect(DoLogCb, 'SetLogCallback');
    Expect(DoStockSet, 'StockSet');
    Expect(DoBatch, 'StockSetBatch');
    Expect(DoSkuMap, 'SkuMap');
    Expect(DoListings, 'Listings');
    Expect(DoSetup, 'NotificationsSetup');
    Expect(DoShip, 'ShipmentConfirm');
    Expect(DoShipments, 'Shipments');
    Expect(DoShipmentsOf, 'Shipments(order)');
    Expect(DoCancel, 'OrderCancel');
    Expect(DoCancelItems, 'OrderCancelItems');
    Expect(DoRefund, 'OrderRefund');
    Expect(DoMetrics, 'Metrics');
    Expect(DoMetricsQ, 'Metrics(query)');
    Expect(DoCredentials, 'SetCredentials');
    Equal(Before, SellSyncCallbacksAlive, 'callbacks the library refused are not kept');
    Equal(SELLSYNC_ERR_CLOSED, sellsync_start(Shop.Handle), 'the library''s tombstone answers CLOSED');
  finally
    Shop.Free; { after Close: frees the object, closes nothing }
  end;
end;

type
  TWaiter = class(TThread)
    Shop: TSellSync;
    Got: string;
    procedure Execute; override;
  end;

procedure TWaiter.Execute;
var
  Doc: UTF8String;
begin
  try
    Shop.EventNext(-1, Doc);
    Got := 'returned';
  except
    on E: Exception do
      Got := E.ClassName;
  end;
end;

procedure CloseWakesAWaiter;
var
  Seller: TSeller;
  Shop: TSellSync;
  W: TWaiter;
  function Ended: Boolean; begin Result := W.Finished; end;
begin
  Seller := TSeller.Create(['WAKE-A']);
  Shop := Seller.Open;
  W := TWaiter.Create(True);
  try
    W.Shop := Shop;
    W.Start;
    Shop.Close;
    WaitFor(Ended, 30, 'the waiting thread to return');
    W.WaitFor;
    Equal('ESellSyncClosed', UTF8String(W.Got), 'the waiter''s exception');
  finally
    W.Free;
    Shop.Free;
  end;
end;

function ResidentBytes: Int64;
var
  F: TextFile;
  Size, Resident: Int64;
begin
  AssignFile(F, '/proc/self/statm');
  Reset(F);
  try
    Read(F, Size, Resident);
  finally
    CloseFile(F);
  end;
  Result := Resident * 4096;
end;

procedure StringsAreFreed;
var
  Seller: TSeller;
  Shop: TSellSync;
  Taken0, Freed0: Int64;
  I: Integer;
  Doc, Mappings: UTF8String;
  Warm, Growth: Int64;
  Size: Integer;
begin
  Seller := TSeller.Create(['STR-A']);
  Shop := Seller.Open;
  try
    Taken0 := SellSyncStringsTaken;
    Freed0 := SellSyncStringsFreed;
    for I := 1 to 2000 do
    begin
      Shop.State;
      Shop.Listings;
    end;
    Check(not Shop.OrderNext(Doc), 'no order');
    Equal(Taken0 + 4000, SellSyncStringsTaken, 'strings handed out');
    Equal(SellSyncStringsTaken, SellSyncStringsFreed, 'strings freed');
    Equal(Freed0 + 4000, SellSyncStringsFreed, 'strings freed by these calls');
    { Really freed: 40,000 documents leave resident memory flat. }
    Mappings := '';
    for I := 0 to 19 do
    begin
      if I > 0 then
        Mappings := Mappings + ',';
      Mappings := Mappings + UTF8String(Format('{"sku": "RSS-SKU-%d", "items": [{"host_item": "RSS-ITEM-%d"}]}', [I, I]));
    end;
    Shop.SkuMap('{"mappings": [' + Mappings + ']}');
    Size := Length(Shop.Listings);
    for I := 1 to 5000 do
      Shop.Listings;
    Warm := ResidentBytes;
    for I := 1 to 40000 do
      Shop.Listings;
    Growth := ResidentBytes - Warm;
    Check(Growth < 16 shl 20, Format('resident memory grew %d KiB over 40,000 documents of %d bytes',
      [Growth shr 10, Size]));
  finally
    Shop.Free;
  end;
end;

procedure Utf8BothWays;
const
  SKU: UTF8String = 'TASSE-Ä-☕';
  ITEM: UTF8String = 'Kaffeebohnen-ß';
  CHEESE: UTF8String = 'Käse-€';
var
  Seller: TSeller;
  Shop: TSellSync;
  C: TCaught;
  Found: Boolean;
  Listings: TJSONArray;
  I: Integer;
  function InStep: Boolean; begin Result := StockInStep(Shop); end;
  function Pulled: Boolean; begin Result := Obj(Shop.Listings).Find('pulled_at', jtString) <> nil; end;
  procedure SetCheese; begin Shop.StockSet(CHEESE, 1); end;
  procedure CheeseFromString; var S: string; begin S := 'Käse-€'; Shop.StockSet(S, 1); end;
begin
  { The source's literals are UTF-8 bytes in the UTF8String constants. }
  Equal('5441535345 2DC3842DE29895', UTF8String(Copy(Hex(SKU), 1, 10) + ' ' + Copy(Hex(SKU), 11, MaxInt)), 'the SKU''s bytes');
  Seller := TSeller.Create([SKU]);
  Shop := Seller.Open;
  try
    Shop.SkuMap('{"mappings": [{"sku": "' + SKU + '", "items": [{"host_item": "' + ITEM + '"}]}]}');
    Shop.StockSet(ITEM, 7);
    SyncUntil(Shop, SELLSYNC_FLOW_STOCK, InStep, 'stock in step');
    Equal(7, Seller.Quantity(SKU), 'the SKU with non-ASCII letters on Amazon');
    Shop.SyncNow(SELLSYNC_FLOW_LISTINGS);
    SyncUntil(Shop, SELLSYNC_FLOW_LISTINGS, Pulled, 'listings pulled');
    Listings := Obj(Shop.Listings).Arrays['listings'];
    Found := False;
    for I := 0 to Listings.Count - 1 do
      Found := Found or (Str(Listings[I], 'sku') = SKU);
    Check(Found, 'the SKU read back as UTF-8 in the listings');
    Check(Contains(Shop.Listings, SKU), 'the raw document holds the SKU''s UTF-8 bytes');
    { A message of the library quoting what went in. }
    C := Raises(ESellSyncNotFound, SetCheese, 'an item in no SKU');
    Check(Contains(C.Detail, CHEESE), 'UTF-8 both ways: ' + Hex(C.Detail));
    Check(Contains(C.Message, CHEESE), 'and in Message: ' + Hex(C.Message));
    C := Raises(ESellSyncNotFound, CheeseFromString, 'an item in no SKU, from a string');
    Check(Contains(C.Detail, CHEESE), 'a string converted to UTF-8: ' + Hex(C.Detail));
  finally
    Shop.Free;
  end;
end;

procedure WorkerInTheBackground;
var
  Seller: TSeller;
  Placed, Got: TStringList;
  Shop: TSellSync;
  function Arrived: Boolean;
  var
    Ids: TStringList;
    K: Integer;
  begin
    Ids := TakeAll(Shop, True);
    for K := 0 to Ids.Count - 1 do
      Got.Add(Ids[K]);
    Result := Got.Count >= 2;
  end;
begin
  Seller := TSeller.Create(['BG-A']);
  Placed := Seller.PlaceOrders(2, 'BG-A', 1);
  Seller.Config.Add('intervals', TJSONObject.Create(['orders_seconds', 0.2, 'stock_seconds', 1]));
  Got := TStringList.Create;
  Garbage.Add(Got);
  Got.Sorted := True;
  Shop := Seller.Open;
  try
    Shop.Start;
    Shop.Start; { idempotent }
    WaitFor(Arrived, 60, 'orders from the worker');
    Shop.Stop;
    Shop.Stop;
    Equal(UTF8String(Placed.CommaText), UTF8String(Got.CommaText), 'orders');
  finally
    Shop.Free;
  end;
end;

procedure FloatingPointMaskKept;
var
  Seller: TSeller;
  Shop: TSellSync;
  Mask: TFPUExceptionMask;
  L: TListener;
begin
  Seller := TSeller.Create(['FPU-A']);
  L := TListener.Create;
  Garbage.Add(L);
  Mask := GetExceptionMask;
  Check(not (exInvalidOp in Mask) and not (exZeroDivide in Mask),
    'these tests run with the invalid-operation and division-by-zero exceptions unmasked');
  Shop := Seller.Open;
  try
    Shop.SetLogCallback(SELLSYNC_LOG_DEBUG, L.OnLog);
    Shop.SyncNow(SELLSYNC_FLOW_ALL);
    Shop.Metrics;
    Check(GetExceptionMask = Mask, 'the caller''s floating-point mask is restored');
    Shop.SetLogCallback(SELLSYNC_LOG_DEBUG, nil);
    Check(L.OnLibraryThread > 0, 'lines written on the library''s threads');
    Equal(0, L.UnmaskedOnLibraryThread, 'lines on a library thread with a floating-point exception unmasked');
    SetExceptionMask([exPrecision]);
    try
      Shop.State;
      Check(GetExceptionMask = [exPrecision], 'another mask restored as well');
    finally
      SetExceptionMask(Mask);
    end;
  finally
    Shop.Free;
  end;
end;

procedure JsonMember;
const
  Doc: UTF8String = '{"a": {"order_id": "inner", "x": [1, "]}", {"y": "}"}]}, "esc": "q\"\\\/\n\u00e4\u20ac\ud83d\ude00",' +
    ' "n": -12.5e3, "t": true, "z": null, "order_id": "902-1"}';
  procedure NotObject; begin SellSyncJsonMember('[1]', 'a'); end;
  procedure Truncated; begin SellSyncJsonMember('{"a": "b', 'c'); end;
begin
  Equal('902-1', SellSyncJsonMember(Doc, 'order_id'), 'a member after nested ones with the same name');
  Equal('q"\/'#10'ä€😀', SellSyncJsonMember(Doc, 'esc'), 'escapes decoded to UTF-8');
  Equal('-12.5e3', SellSyncJsonMember(Doc, 'n'), 'a number''s text');
  Equal('true', SellSyncJsonMember(Doc, 't'), 'true');
  Equal('null', SellSyncJsonMember(Doc, 'z'), 'null');
  Equal('', SellSyncJsonMember(Doc, 'absent'), 'absent');
  Raises(ESellSyncInvalidArgument, NotObject, 'not an object');
  Raises(ESellSyncInvalidArgument, Truncated, 'an unterminated string');
end;

{ Runs the README's Hello as a user would; returns its output. }
function RunHello(const ConfigFile: string): string;
var
  Output_: string;
  ExitCode_: Integer;
begin
  Output_ := '';
  ExitCode_ := 0;
  Check(RunCommandInDir('', HelloExe, [ConfigFile], Output_, ExitCode_, [poStderrToOutPut]) = 0, 'Hello ran');
  Check(ExitCode_ = 0, 'Hello exit code ' + IntToStr(ExitCode_) + ': ' + Output_);
  Result := Output_;
end;

procedure HelloExample;
var
  Seller: TSeller;
  Placed: TStringList;
  ConfigFile, First, Second: string;
  F: TextFile;
  I: Integer;
begin
  Seller := TSeller.Create(['HELLO-A']);
  Placed := Seller.PlaceOrders(2, 'HELLO-A', 1);
  ConfigFile := WorkDir + '/hello.json';
  AssignFile(F, ConfigFile);
  Rewrite(F);
  Write(F, Seller.ConfigJson);
  CloseFile(F);
  First := RunHello(ConfigFile);
  for I := 0 to Placed.Count - 1 do
    Check(Contains(First, 'order ' + Placed[I] + ' booked as POS-'), 'Hello booked ' + Placed[I] + ': ' + First);
  Check(Contains(First, 'took 2 orders (sellsync ' + SellSyncVersion + ')'), 'Hello''s last line: ' + First);
  Second := RunHello(ConfigFile);
  Check(Contains(Second, 'took 0 orders'), 'no order taken again: ' + Second);
end;

begin
  if ParamStr(1) = '--probe-load' then
  begin
    ProbeMain;
    Halt(0);
  end;
  if ParamCount <> 4 then
  begin
    Writeln(StdErr, 'usage: SellSyncTests EMULATOR_URL WORK_DIR REPO_DIR HELLO_EXE');
    Halt(2);
  end;
  EmulatorUrl := ParamStr(1);
  if (EmulatorUrl <> '') and (EmulatorUrl[Length(EmulatorUrl)] = '/') then
    SetLength(EmulatorUrl, Length(EmulatorUrl) - 1);
  WorkDir := ParamStr(2);
  RepoDir := ParamStr(3);
  HelloExe := ParamStr(4);
  Run := UpperCase(IntToHex(DateTimeToUnix(Now) mod $FFFFFF, 6));
  Garbage := TList.Create;
  RunTest('version and loading: refuses another major version', VersionAndLoading);
  RunTest('library lookup: SELLSYNC_LIBRARY, the library path, a clear error', LibraryLookup);
  RunTest('every export of abi/symbols.txt and the header is bound', EveryExportBound);
  RunTest('orders taken and acknowledged, never handed out after ack', OrdersTakenAndAcknowledged);
  RunTest('buyer data purged', BuyerDataPurged);
  RunTest('stock levels reach the emulator''s listing quantity', StockReachesListing);
  RunTest('stock by location: Amazon sells the configured locations', StockByLocation);
  RunTest('FBA stock shown', FbaStockShown);
  RunTest('prices within the guard rails', PricesWithinGuardRails);
  RunTest('shipment confirmed on Amazon exactly once', ShipmentConfirmedOnAmazon);
  RunTest('cancellations and a refund reach Amazon', CancellationsAndRefundReachAmazon);
  RunTest('metrics count the cancellation', MetricsCountTheCancellation);
  RunTest('events by polling, acknowledged once', EventsByPolling);
  RunTest('events by callback, registration kept until the library lets go', EventsByCallback);
  RunTest('an event whose handler raised comes again', EventDeclinedWhenHandlerRaises);
  RunTest('log callback gets the library''s lines', LogCallback);
  RunTest('errors: the exception of each status, with its message', ErrorsAreTheRightException);
  RunTest('every status the library can produce, as its exception', EveryStatusFromTheLibrary);
  RunTest('NETWORK when nobody listens', NetworkWithoutAmazon);
  RunTest('FORKED in a forked child', ForkedChild);
  RunTest('a call after close raises ESellSyncClosed', CallAfterClose);
  RunTest('close wakes a thread waiting for events', CloseWakesAWaiter);
  RunTest('strings handed out are freed', StringsAreFreed);
  RunTest('UTF-8 both ways', Utf8BothWays);
  RunTest('background worker', WorkerInTheBackground);
  RunTest('the caller''s floating-point mask is kept', FloatingPointMaskKept);
  RunTest('SellSyncJsonMember reads a member', JsonMember);
  RunTest('the README''s Hello takes the orders', HelloExample);
  Garbage.Free;
  Writeln(Passed, ' passed, ', Failed, ' failed');
  if Failed > 0 then
    Halt(1);
end.
