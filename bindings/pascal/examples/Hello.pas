{ The shortest Pascal host: takes the orders waiting on Amazon and acknowledges each.
  usage: Hello CONFIG_JSON_FILE }
program Hello;

{$IFDEF FPC}{$mode delphi}{$ENDIF}
{$IFDEF MSWINDOWS}{$APPTYPE CONSOLE}{$ENDIF}

uses
  {$IFDEF FPC}{$IFDEF UNIX} cthreads, {$ENDIF}{$ENDIF}
  SysUtils, SellSync;

var
  Shop: TSellSync;
  Order, Id: UTF8String;
  Taken: Integer;
begin
  Shop := TSellSync.CreateFromFile(ParamStr(1)); { the configuration document }
  try
    Shop.SyncNow(SELLSYNC_FLOW_ORDERS);
    Taken := 0;
    while Shop.OrderNext(Order) do
    begin
      Inc(Taken);
      Id := SellSyncJsonMember(Order, 'order_id');
      Shop.OrderAck(Id, UTF8String('POS-' + IntToStr(Taken))); { booked in the POS as POS-n }
      Writeln('order ', Id, ' booked as POS-', Taken);
    end;
    Writeln('took ', Taken, ' orders (sellsync ', SellSyncVersion, ')');
  finally
    Shop.Free;
  end;
end.
