import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { RouteInventory } from './route-inventory';

@Global()
@Module({ imports: [DiscoveryModule], providers: [RouteInventory], exports: [RouteInventory] })
export class RouteInventoryModule {}
